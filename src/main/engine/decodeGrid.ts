import type { DecodeParams } from '../../shared/schemas/decode';
import type { RunConfig } from '../../shared/schemas/runConfig';
import { deriveSeed } from '../../shared/random';

/**
 * Candidate i of a group uses grid point i mod len(grid) and a seed derived from
 * (run seed, epoch, group_id, i), so a rerun or a resume draws the same candidates
 * while different groups and epochs still get different samples.
 */
export function candidateDecodeParams(
  sampler: RunConfig['sampler'],
  runSeed: number,
  epoch: number,
  groupId: string,
  purpose: 'rollout' | 'holdout' = 'rollout',
): DecodeParams[] {
  return Array.from({ length: sampler.candidates }, (_, i) => {
    const point = sampler.grid[i % sampler.grid.length];
    return {
      temperature: point.temperature,
      top_p: point.top_p,
      prompt_variant: point.prompt_variant,
      max_new_tokens: sampler.max_new_tokens,
      seed: deriveSeed(runSeed, purpose, purpose === 'holdout' ? 0 : epoch, groupId, i),
    };
  });
}
