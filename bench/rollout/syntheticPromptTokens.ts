import type { Token } from 'node-llama-cpp';

/**
 * `length` byte tokens (ids 3..252) in a fixed order, for benches that time prompt
 * evaluation or decoding: any valid ids do, the rate does not depend on them.
 */
export function syntheticPromptTokens(length: number): Token[] {
  return Array.from({ length }, (_, i) => ((i * 7919) % 250) + 3) as Token[];
}
