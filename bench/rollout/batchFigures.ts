/**
 * bench:rollout's per-batch floors, the disturbance rule applied to each batch, and the figures over the batches
 * kept. Pure (no model): everything here works on recorded rates and times.
 */
import { judgeRun, type DisturbanceRule, type Judgement, type RateSamples } from '../shared/disturbance';
import { decodeRate, type PathSettings } from './pathSettings';
import type { ThroughputSample } from './ThroughputMeter';

/** Per thread count, the mean of each rate measured before and after a batch. */
export function meanRates(before: readonly ThroughputSample[], after: readonly ThroughputSample[]): ThroughputSample[] {
  return before.map((b) => {
    const a = after.find((s) => s.threads === b.threads) ?? b;
    return {
      threads: b.threads,
      promptTokensPerSecond: (b.promptTokensPerSecond + a.promptTokensPerSecond) / 2,
      batchedDecodeTokensPerSecond: (b.batchedDecodeTokensPerSecond + a.batchedDecodeTokensPerSecond) / 2,
      singleDecodeTokensPerSecond: (b.singleDecodeTokensPerSecond + a.singleDecodeTokensPerSecond) / 2,
    };
  });
}

/**
 * The floor's rates: the best prompt rate, and the best decode rate of either mode (32 candidates per step or
 * one at a time; where one at a time is faster and the optimized path uses it, a floor on the batched rate alone
 * would not be a floor; `batchedOnly` gives that narrower estimate, as the issue first defined it).
 */
export function floorRates(rates: readonly ThroughputSample[], batchedOnly = false): { prompt: number; decode: number } {
  return {
    prompt: Math.max(...rates.map((s) => s.promptTokensPerSecond)),
    decode: Math.max(...rates.map((s) => (batchedOnly ? s.batchedDecodeTokensPerSecond : Math.max(s.batchedDecodeTokensPerSecond, s.singleDecodeTokensPerSecond)))),
  };
}

/** One optimized batch: its work, and the floor rates measured right before and right after it. */
export type BracketedBatch = { unique: number; generated: number; before: ThroughputSample[]; after: ThroughputSample[] };

export type BatchFloor = { seconds: number; promptSeconds: number; decodeSeconds: number; prompt: number; decode: number };

/**
 * A batch's floor: unique prompt tokens / best prompt rate and generated tokens / best decode rate, on the mean of
 * the rates before and after it; the sum of the two, or, `overlapped` (prompts evaluated while candidates decode),
 * the larger of the two, since then the phases run at once.
 */
export function batchFloor(batch: BracketedBatch, options: { batchedOnly?: boolean; overlapped?: boolean } = {}): BatchFloor {
  const { prompt, decode } = floorRates(meanRates(batch.before, batch.after), options.batchedOnly);
  const promptSeconds = batch.unique / prompt;
  const decodeSeconds = batch.generated / decode;
  return { seconds: options.overlapped ? Math.max(promptSeconds, decodeSeconds) : promptSeconds + decodeSeconds, promptSeconds, decodeSeconds, prompt, decode };
}

export const sampleAt = (samples: readonly ThroughputSample[], threads: number): ThroughputSample | undefined => samples.find((s) => s.threads === threads);

/** The rates an optimized batch's figures depend on: the floor's two, and the path's own prompt and decode rates. */
export function optimizedRateSamples(samples: readonly ThroughputSample[], settings: PathSettings): RateSamples {
  const floor = floorRates(samples);
  const prompt = sampleAt(samples, settings.promptThreads);
  const decode = sampleAt(samples, settings.decodeThreads);
  return {
    'floor prompt rate': floor.prompt,
    'floor decode rate': floor.decode,
    [`prompt at ${settings.promptThreads} thread(s)`]: prompt?.promptTokensPerSecond ?? Number.NaN,
    [`${settings.decodeMode} decode at ${settings.decodeThreads} thread(s)`]: decode ? decodeRate(decode, settings.decodeMode) : Number.NaN,
  };
}

/** The rates the naive path's time depends on: prompts and one-sequence decoding at its own thread counts. */
export function naiveRateSamples(samples: readonly ThroughputSample[], settings: PathSettings): RateSamples {
  const prompt = sampleAt(samples, settings.promptThreads);
  const decode = sampleAt(samples, settings.decodeThreads);
  return {
    [`prompt at ${settings.promptThreads} thread(s)`]: prompt?.promptTokensPerSecond ?? Number.NaN,
    [`single decode at ${settings.decodeThreads} thread(s)`]: decode ? decodeRate(decode, 'single') : Number.NaN,
  };
}

/**
 * One batch as the bench ran it: optimized pass A, the naive path, optimized pass B. The naive run is bracketed by
 * the rates measured right after pass A and right before pass B (at the naive path's own thread counts).
 */
export type RolloutBatch = {
  optimized: [{ seconds: number; bracket: BracketedBatch }, { seconds: number; bracket: BracketedBatch }];
  naive: { seconds: number; before: ThroughputSample[]; after: ThroughputSample[] };
};

export type BatchJudgement = { index: number; disturbed: boolean; runs: Judgement[] };

/**
 * The disturbance rule on one batch: each of its three runs is judged on the rates its figures depend on
 * (before against after), and each optimized pass also on its floor (an optimized time below the floor means the
 * floor's rates were measured on a disturbed host). The batch is disturbed when any of its runs is.
 */
export function judgeRolloutBatch(
  batch: RolloutBatch,
  index: number,
  options: { optimized: PathSettings; naive: PathSettings; overlapped: boolean; rule: DisturbanceRule },
): BatchJudgement {
  const runs = [
    ...batch.optimized.map((pass, p) =>
      judgeRun(
        {
          label: `batch ${index + 1}${'AB'[p]}`,
          before: optimizedRateSamples(pass.bracket.before, options.optimized),
          after: optimizedRateSamples(pass.bracket.after, options.optimized),
          seconds: pass.seconds,
          floorSeconds: batchFloor(pass.bracket, { overlapped: options.overlapped }).seconds,
        },
        options.rule,
      ),
    ),
    judgeRun(
      { label: `batch ${index + 1} naive`, before: naiveRateSamples(batch.naive.before, options.naive), after: naiveRateSamples(batch.naive.after, options.naive) },
      options.rule,
    ),
  ];
  return { index, disturbed: runs.some((r) => r.disturbed), runs };
}

export type RolloutFigures = {
  batches: number;
  /** Both optimized passes, summed over the batches kept. */
  optimizedSeconds: [number, number];
  naiveSeconds: number;
  floorSeconds: [number, number];
  /** Naive time / the mean of the two optimized passes. */
  speedup: number;
  /** The floors of both passes / their times. */
  floorFraction: number;
  /** The same with only the batched-decode rate in the floor: not a floor where one at a time decodes faster. */
  batchedOnlyRatio: number;
};

/** The figures over the batches at `kept` (indices into `batches`). */
export function rolloutFigures(batches: readonly RolloutBatch[], kept: readonly number[], options: { overlapped: boolean }): RolloutFigures {
  const chosen = kept.map((i) => batches[i]);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const optimizedSeconds: [number, number] = [0, 1].map((p) => sum(chosen.map((b) => b.optimized[p].seconds))) as [number, number];
  const floorSeconds: [number, number] = [0, 1].map((p) => sum(chosen.map((b) => batchFloor(b.optimized[p].bracket, options).seconds))) as [number, number];
  const batchedOnly = sum(chosen.flatMap((b) => b.optimized.map((pass) => batchFloor(pass.bracket, { ...options, batchedOnly: true }).seconds)));
  const naiveSeconds = sum(chosen.map((b) => b.naive.seconds));
  const bothPasses = optimizedSeconds[0] + optimizedSeconds[1];
  return {
    batches: chosen.length,
    optimizedSeconds,
    naiveSeconds,
    floorSeconds,
    speedup: naiveSeconds / (bothPasses / 2),
    floorFraction: (floorSeconds[0] + floorSeconds[1]) / bothPasses,
    batchedOnlyRatio: batchedOnly / bothPasses,
  };
}

/** Samples of the same thread counts from separate measurements, as one per thread count (a rate not measured is 0). */
export function mergeSamples(...lists: readonly (readonly ThroughputSample[])[]): ThroughputSample[] {
  const merged = new Map<number, ThroughputSample>();
  for (const s of lists.flat()) {
    const m = merged.get(s.threads);
    merged.set(
      s.threads,
      m
        ? {
            threads: s.threads,
            promptTokensPerSecond: Math.max(m.promptTokensPerSecond, s.promptTokensPerSecond),
            batchedDecodeTokensPerSecond: Math.max(m.batchedDecodeTokensPerSecond, s.batchedDecodeTokensPerSecond),
            singleDecodeTokensPerSecond: Math.max(m.singleDecodeTokensPerSecond, s.singleDecodeTokensPerSecond),
          }
        : { ...s },
    );
  }
  return [...merged.values()].sort((a, b) => a.threads - b.threads);
}
