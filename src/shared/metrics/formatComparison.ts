import type { MetricComparison, RateEstimate } from './compareRuns';

/** The cells of a comparison as `stageb compare` prints them and the workbench shows them. */
export const pct = (x: number) => (x * 100).toFixed(1);
export const signedPp = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

/** `61.2% [49.1, 72.1] 30/49`; `n/a (0 rows)` when nothing was measured. */
export function formatRate(r: RateEstimate): string {
  if (r.rate === null || !r.ci) return `n/a (0 rows)`;
  return `${pct(r.rate)}% [${pct(r.ci.lower)}, ${pct(r.ci.upper)}] ${r.successes}/${r.n}`;
}

/** Whether B − A's 95% interval excludes 0 (marked `*`). */
export function diffExcludesZero(m: MetricComparison): boolean {
  return m.diff !== null && (m.diff.ci.lower > 0 || m.diff.ci.upper < 0);
}

/** `-18.2 pp [-45.0, +12.3]`, with ` *` when the interval excludes 0. */
export function formatDiff(m: MetricComparison): string {
  if (!m.diff) return 'n/a';
  return `${signedPp(m.diff.estimate)} pp [${signedPp(m.diff.ci.lower)}, ${signedPp(m.diff.ci.upper)}]${diffExcludesZero(m) ? ' *' : ''}`;
}
