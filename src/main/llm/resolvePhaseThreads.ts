import type { LlamaCppModelConfig } from '../../shared/schemas/runConfig';
import { resolveThreadCount } from './llamaRuntime';

export type PhaseThreads = { prompt: number; decode: number };

/**
 * Thread counts for prompt evaluation and for decoding on a machine with
 * `cores` physical cores. Never more than the cores per phase: ggml threads spin
 * at barriers, so oversubscribing collapses throughput. With `overlap_prompts`
 * the two phases run at the same time in two contexts, so their sum is kept to
 * the cores as well: 0 (auto) splits them, decoding getting the larger half.
 */
export function resolvePhaseThreads(config: Pick<LlamaCppModelConfig, 'threads' | 'decode_threads' | 'overlap_prompts'>, cores: number): PhaseThreads {
  if (!config.overlap_prompts) {
    const prompt = resolveThreadCount(config.threads, cores);
    return { prompt, decode: config.decode_threads > 0 ? resolveThreadCount(config.decode_threads, cores) : prompt };
  }
  const available = Math.max(1, cores);
  const cap = (n: number) => Math.max(1, Math.min(n, available));
  if (config.threads > 0 && config.decode_threads > 0) return { prompt: cap(config.threads), decode: cap(config.decode_threads) };
  if (config.threads > 0) return { prompt: cap(config.threads), decode: cap(available - cap(config.threads)) };
  if (config.decode_threads > 0) return { prompt: cap(available - cap(config.decode_threads)), decode: cap(config.decode_threads) };
  const prompt = Math.max(1, Math.floor(available / 2));
  return { prompt, decode: cap(available - prompt) };
}
