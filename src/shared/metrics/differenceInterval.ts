import { wilsonInterval } from './wilsonInterval';

export type DifferenceInterval = {
  /** pA - pB; null when either side has n = 0. */
  estimate: number | null;
  lower: number;
  upper: number;
};

/**
 * Confidence interval for the difference of two independent proportions,
 * pA - pB = successesA/nA - successesB/nB, by Newcombe's hybrid score method
 * (Newcombe 1998, method 10): it combines the two Wilson intervals, so it stays
 * inside [-1, 1] and is well behaved at 0 % and 100 %, unlike the Wald interval.
 * Used to compare two runs' rates (e.g. label_match_rate) with a 95 % CI.
 * With either n = 0 the difference is unknown: [-1, 1] and a null estimate.
 * For the same tickets evaluated twice use pairedBootstrapUpliftProbability instead.
 */
export function differenceInterval(
  successesA: number,
  nA: number,
  successesB: number,
  nB: number,
  z = 1.96,
): DifferenceInterval {
  const a = wilsonInterval(successesA, nA, z);
  const b = wilsonInterval(successesB, nB, z);
  if (a.estimate === null || b.estimate === null) return { estimate: null, lower: -1, upper: 1 };
  const d = a.estimate - b.estimate;
  const lower = d - Math.sqrt((a.estimate - a.lower) ** 2 + (b.upper - b.estimate) ** 2);
  const upper = d + Math.sqrt((a.upper - a.estimate) ** 2 + (b.estimate - b.lower) ** 2);
  return { estimate: d, lower: Math.max(-1, lower), upper: Math.min(1, upper) };
}
