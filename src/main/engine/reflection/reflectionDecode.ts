import type { DecodeParams } from '../../../shared/schemas/decode';
import { deriveSeed } from '../../../shared/random';

/**
 * Decode params of a reflection call: greedy (temperature 0) so a rerun without cache
 * reproduces the same artifact on a deterministic backend, with a seed derived from
 * the run seed and the call's identity for backends that sample anyway.
 */
export function reflectionDecode(seed: number, maxNewTokens: number, ...identity: (string | number)[]): DecodeParams {
  return {
    temperature: 0,
    top_p: 1,
    seed: deriveSeed(seed, 'reflection', ...identity),
    max_new_tokens: maxNewTokens,
    prompt_variant: 'default',
  };
}
