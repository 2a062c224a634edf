import { createRng } from '../random';

export type PairedBootstrap = {
  /** mean(candidate) - mean(baseline) on the items themselves; null with no items. */
  estimate: number | null;
  /** 95 % percentile interval of the resampled difference (2.5th and 97.5th percentiles); null with no items. */
  lower: number | null;
  upper: number | null;
  /** Share of resamples whose difference is strictly greater than 0 (0 with no items). */
  probabilityPositive: number;
  n: number;
};

/**
 * Paired bootstrap over items evaluated twice (the same holdout tickets under a
 * baseline and a candidate guidance): resamples item indices with replacement
 * `samples` times and reads the resampled mean differences. Pairing matters:
 * per-ticket difficulty cancels out, so the numbers reflect only the change.
 * Seeded through src/shared/random.ts: the same inputs and seed give the same numbers.
 * The gate's P(uplift > 0), the attribution and the preview all come from here.
 */
export function pairedBootstrap(
  baseline: readonly boolean[],
  candidate: readonly boolean[],
  samples: number,
  seed: number,
): PairedBootstrap {
  if (baseline.length !== candidate.length) {
    throw new RangeError(`paired bootstrap needs equally long inputs, got ${baseline.length} baseline and ${candidate.length} candidate items`);
  }
  if (!Number.isInteger(samples) || samples <= 0) throw new RangeError(`samples must be a positive integer, got ${samples}`);
  const n = baseline.length;
  if (n === 0) return { estimate: null, lower: null, upper: null, probabilityPositive: 0, n: 0 };
  // Per-item difference in {-1, 0, 1}; the resampled mean difference is their mean.
  const diff = new Int8Array(n);
  let observed = 0;
  for (let i = 0; i < n; i++) {
    diff[i] = (candidate[i] ? 1 : 0) - (baseline[i] ? 1 : 0);
    observed += diff[i];
  }
  const rng = createRng(seed);
  const totals = new Int32Array(samples);
  let positive = 0;
  for (let s = 0; s < samples; s++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += diff[Math.floor(rng() * n)];
    totals[s] = total;
    if (total > 0) positive++;
  }
  totals.sort();
  const at = (q: number) => totals[Math.min(samples - 1, Math.max(0, Math.floor(q * samples)))] / n;
  return { estimate: observed / n, lower: at(0.025), upper: at(0.975), probabilityPositive: positive / samples, n };
}
