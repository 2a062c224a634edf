/**
 * Which thread counts and decode mode a bench:rollout path runs with, chosen from the rates the floor meter measured
 * for every thread count. Pure (no model), so the choice is testable from recorded rates.
 *
 * Each path gets its own best: a speedup between two paths is only a figure of the engine where neither runs on
 * settings picked for the other. On one 2-core host 2 threads gave the best batched decode (201 tok/s against 130
 * on 1 thread) while one sequence decoded at 63 tok/s on 2 threads and 156 on 1: running the naive path on the
 * optimized path's 2 threads made it take 274.5 s where its own settings took 179–185 s (issue #22).
 */
import type { ThroughputSample } from './ThroughputMeter';

/** 'batched': all candidates of a batch decode in one step each; 'single': one candidate at a time. */
export type DecodeMode = 'batched' | 'single';

export type PathSettings = {
  promptThreads: number;
  decodeThreads: number;
  decodeMode: DecodeMode;
  /** The measured rates behind the choice, tok/s. */
  promptRate: number;
  decodeRate: number;
  /** True where --threads forced one count for both phases. */
  forced: boolean;
};

export const decodeRate = (sample: ThroughputSample, mode: DecodeMode): number =>
  mode === 'batched' ? sample.batchedDecodeTokensPerSecond : sample.singleDecodeTokensPerSecond;

/**
 * The best settings for a path from `samples` (one per thread count): prompts on the thread count with the best
 * prompt rate, decoding on the count and mode (of `modes`, the ones this path can run) with the best decode rate.
 * A path's time is about prompt tokens / prompt rate + generated tokens / decode rate, and the two phases switch
 * thread counts independently (model.threads, model.decode_threads), so the best of each phase is the best of the
 * sum. Ties go to fewer threads, then to the mode listed first. `forcedThreads` (--threads N) puts both phases on
 * that count and still picks the mode.
 * - the optimized path: modes ['batched', 'single'] (--batch-decode auto), or the one forced;
 * - the naive path: ['single'], the reference decodes one candidate at a time (model.batch_decode does not apply).
 */
export function bestPathSettings(samples: readonly ThroughputSample[], options: { modes: readonly DecodeMode[]; forcedThreads?: number }): PathSettings {
  if (samples.length === 0) throw new Error('bestPathSettings: no measured rates');
  if (options.modes.length === 0) throw new Error('bestPathSettings: no decode mode to choose from');
  const forced = options.forcedThreads !== undefined && options.forcedThreads > 0 ? samples.find((s) => s.threads === options.forcedThreads) : undefined;
  if (options.forcedThreads !== undefined && options.forcedThreads > 0 && !forced) throw new Error(`bestPathSettings: no rates measured at ${options.forcedThreads} thread(s)`);
  const candidates = [...(forced ? [forced] : samples)].sort((a, b) => a.threads - b.threads);
  let prompt = candidates[0];
  for (const s of candidates) if (s.promptTokensPerSecond > prompt.promptTokensPerSecond) prompt = s;
  let decode = { sample: candidates[0], mode: options.modes[0], rate: decodeRate(candidates[0], options.modes[0]) };
  for (const s of candidates) {
    for (const mode of options.modes) {
      const rate = decodeRate(s, mode);
      if (rate > decode.rate) decode = { sample: s, mode, rate };
    }
  }
  return {
    promptThreads: prompt.threads,
    decodeThreads: decode.sample.threads,
    decodeMode: decode.mode,
    promptRate: prompt.promptTokensPerSecond,
    decodeRate: decode.rate,
    forced: forced !== undefined,
  };
}

/** The decode modes the optimized path may use under --batch-decode. */
export function optimizedDecodeModes(batchDecode: 'auto' | 'on' | 'off'): DecodeMode[] {
  return batchDecode === 'on' ? ['batched'] : batchDecode === 'off' ? ['single'] : ['batched', 'single'];
}

/** The path's time at its settings' rates: prompt tokens it evaluates / prompt rate + generated tokens / decode rate. */
export function estimatedSeconds(settings: Pick<PathSettings, 'promptRate' | 'decodeRate'>, work: { promptTokens: number; generatedTokens: number }): number {
  return work.promptTokens / settings.promptRate + work.generatedTokens / settings.decodeRate;
}

/** "prompts on 2 thread(s) (1,540 tok/s), decoding on 1 thread(s) one candidate at a time (156 tok/s)". */
export function describeSettings(settings: PathSettings): string {
  const mode = settings.decodeMode === 'batched' ? 'all candidates of a batch together' : 'one candidate at a time';
  return (
    `prompts on ${settings.promptThreads} thread(s) (${settings.promptRate.toFixed(0)} tok/s), ` +
    `decoding on ${settings.decodeThreads} thread(s) ${mode} (${settings.decodeRate.toFixed(0)} tok/s)${settings.forced ? ' (--threads forced)' : ''}`
  );
}
