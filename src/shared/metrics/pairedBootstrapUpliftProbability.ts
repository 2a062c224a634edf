import { pairedBootstrap } from './pairedBootstrap';

/**
 * The share of paired-bootstrap resamples in which mean(candidate) - mean(baseline)
 * is strictly greater than 0 (pairedBootstrap's probabilityPositive): the holdout
 * gate's P(uplift > 0). With no items it returns 0 (no evidence of uplift).
 */
export function pairedBootstrapUpliftProbability(
  baselineCorrect: readonly boolean[],
  candidateCorrect: readonly boolean[],
  samples: number,
  seed: number,
): number {
  return pairedBootstrap(baselineCorrect, candidateCorrect, samples, seed).probabilityPositive;
}
