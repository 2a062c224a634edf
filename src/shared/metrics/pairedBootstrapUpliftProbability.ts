import { createRng } from '../random';

/**
 * Paired bootstrap over items evaluated twice (the same holdout tickets under the
 * baseline and the candidate guidance): resamples item indices with replacement
 * `samples` times and returns the share of resamples in which
 * mean(candidate) - mean(baseline) is strictly greater than 0.
 *
 * Pairing matters: per-ticket difficulty cancels out, so the probability reflects
 * only the change the candidate made. Seeded through src/shared/random.ts, so the
 * same inputs and seed always give the same number. With no items it returns 0
 * (no evidence of uplift).
 */
export function pairedBootstrapUpliftProbability(
  baselineCorrect: readonly boolean[],
  candidateCorrect: readonly boolean[],
  samples: number,
  seed: number,
): number {
  if (baselineCorrect.length !== candidateCorrect.length) {
    throw new RangeError(
      `paired bootstrap needs equally long inputs, got ${baselineCorrect.length} baseline and ${candidateCorrect.length} candidate items`,
    );
  }
  if (!Number.isInteger(samples) || samples <= 0) throw new RangeError(`samples must be a positive integer, got ${samples}`);
  const n = baselineCorrect.length;
  if (n === 0) return 0;
  // Per-item difference in {-1, 0, 1}; the resampled mean difference is their mean.
  const diff = new Int8Array(n);
  for (let i = 0; i < n; i++) diff[i] = (candidateCorrect[i] ? 1 : 0) - (baselineCorrect[i] ? 1 : 0);
  const rng = createRng(seed);
  let positive = 0;
  for (let s = 0; s < samples; s++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += diff[Math.floor(rng() * n)];
    if (total > 0) positive++;
  }
  return positive / samples;
}
