/**
 * bench:rollout — prefix sharing and batched decode against the naive path.
 *
 *   npm run bench:rollout [-- --models tiny,bench-27m --tiny-tickets 100 --bench-tickets 24 --threads 0 --overlap auto --flash-attention auto --batch-decode auto --rate-tolerance 0.25 --max-disturbed 0.5 --max-threads 0]
 *
 * The floor measurement comes first and picks each path's settings from the same rates, per model: each path runs
 * at its own best (pathSettings.ts). The optimized path prompts on the thread count with the best prompt rate and
 * decodes on the count and mode with the best decode rate, batched or (--batch-decode auto, the default) one
 * candidate at a time when that measured faster; when decoding leaves cores idle and the measured rates predict that
 * overlapping wins (--overlap auto), it runs with model.overlap_prompts, evaluating prompts on the idle cores in a
 * second context while candidates decode. The naive path, which decodes one candidate at a time, prompts on the
 * count with the best prompt rate and decodes on the count with the best one-sequence rate. Both are printed.
 * --overlap on|off forces the mode; --threads N forces both paths onto N threads (no overlap). --flash-attention
 * sets model.flash_attention for the floor and both paths (auto: off on this CPU-only bench, so batched decode is exact).
 * --max-threads N measures (and so lets the paths choose) thread counts up to N only (0, the default: the physical cores).
 *
 * Workload: real bbu_line tickets (../shared/datasets/bbu-qc-2025), K=4
 * candidates per group, batches of 8 groups, a ~1k-token experiences block,
 * the engine's prompt builder and verdict grammar. The paths run interleaved, batch by batch: optimized pass A,
 * naive, optimized pass B (two backends with the same settings), so every path sits on the same stretches of the
 * host's drifting speed. The rates are measured again right before and right after every optimized pass (at the
 * optimized path's thread counts, and next to the naive run at the naive path's), and the disturbance rule
 * (../shared/disturbance.ts) marks a batch disturbed when a rate one of its runs depends on moved by more than
 * --rate-tolerance between before and after, or an optimized pass took less than its floor. Disturbed batches are
 * left out of the figures (a repeat would not be the same work: the optimized backends then hold the batch's
 * prompts), and a run with more than --max-disturbed of its batches disturbed prints no figures and exits 1.
 * Prints per model: prompt tokens evaluated / unique, tickets/s optimized (the mean of the passes) vs naive, the
 * floor (unique prompt tokens / best prompt-processing tok/s + generated tokens / best decode tok/s, batched or one
 * at a time, each pass's batch on the mean of the rates measured right before and right after it, summed over the
 * batches kept of both passes; overlapped, the larger of the two phases instead of their sum), floor fraction,
 * generated tok/s, and how many candidate texts each optimized pass produced identically to the naive path. Ends
 * with machine-readable lines for bench-27m.
 */
import { access } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Token } from 'node-llama-cpp';
import { ingestStageA } from '../../src/main/io/ingestStageA';
import { createLlamaCppBackend, type LlamaCppBackend } from '../../src/main/llm/LlamaCppBackend';
import { getLlamaRuntime, physicalCoreCount, resolveThreadCount } from '../../src/main/llm/llamaRuntime';
import { resolvePhaseThreads } from '../../src/main/llm/resolvePhaseThreads';
import { resolveFlashAttention } from '../../src/main/llm/resolveFlashAttention';
import { PromptPrefixMeter } from '../../src/main/llm/promptPrefixMeter';
import { buildRolloutPrompt } from '../../src/main/engine/promptBuilder';
import { LlamaCppModelSchema, type RunConfig } from '../../src/shared/schemas/runConfig';
import type { Ticket } from '../../src/shared/schemas/stageARecord';
import { DEFAULT_RATE_TOLERANCE, describeJudgement, reportableFraction, summarizeDisturbance, type DisturbanceRule } from '../shared/disturbance';
import { batchFloor, judgeRolloutBatch, mergeSamples, rolloutFigures, sampleAt, type BracketedBatch, type RolloutBatch } from './batchFigures';
import { BENCH_EXPERIENCES, BENCH_MISSION } from './benchGuidance';
import { ensureBenchModel } from './ensureBenchModel';
import { bestPathSettings, decodeRate, describeSettings, estimatedSeconds, optimizedDecodeModes, type PathSettings } from './pathSettings';
import { ThroughputMeter, type RateKind, type ThroughputSample } from './ThroughputMeter';
import { runRolloutWorkload } from './runRolloutWorkload';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DATASET = resolve(ROOT, '../shared/datasets/bbu-qc-2025/bbu_line.stage_a.jsonl');
const BATCH_GROUPS = 8;
const K = 4;
const SEED = 17;

const SAMPLER: RunConfig['sampler'] = {
  candidates: K,
  grid: [
    { temperature: 0.7, top_p: 0.9, prompt_variant: 'default' },
    { temperature: 1.0, top_p: 0.95, prompt_variant: 'checklist' },
  ],
  max_new_tokens: 160,
  max_reason_chars: 40,
  format: 'three_line',
  max_prompt_tokens: null,
};

type Switch = 'auto' | 'on' | 'off';
type Args = {
  models: string[];
  tinyTickets: number;
  benchTickets: number;
  threads: number;
  overlap: Switch;
  flashAttention: Switch;
  batchDecode: Switch;
  /** The disturbance rule's tolerance on a rate's change between before and after a run. */
  rateTolerance: number;
  /** The largest fraction of a model's batches that may be disturbed before the run has no result. */
  maxDisturbed: number;
  /** The largest thread count the rates are measured at (0: the physical cores). */
  maxThreads: number;
};

function parseArgs(argv: string[]): Args {
  const args: Args = {
    models: ['tiny', 'bench-27m'],
    tinyTickets: 100,
    benchTickets: 24,
    threads: 0,
    overlap: 'auto',
    flashAttention: 'auto',
    batchDecode: 'auto',
    rateTolerance: DEFAULT_RATE_TOLERANCE,
    maxDisturbed: 0.5,
    maxThreads: 0,
  };
  const toSwitch = (value: string): Switch => (value === 'on' || value === 'off' ? value : 'auto');
  const fraction = (name: string, value: string): number => {
    const parsed = Number(value);
    if (!(parsed >= 0 && parsed <= 1)) throw new Error(`bench:rollout: --${name} must be a number from 0 to 1, got ${value}`);
    return parsed;
  };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--models') args.models = value.split(',');
    else if (argv[i] === '--tiny-tickets') args.tinyTickets = Number(value);
    else if (argv[i] === '--bench-tickets') args.benchTickets = Number(value);
    else if (argv[i] === '--threads') args.threads = Number(value);
    else if (argv[i] === '--overlap') args.overlap = toSwitch(value);
    else if (argv[i] === '--flash-attention') args.flashAttention = toSwitch(value);
    else if (argv[i] === '--batch-decode') args.batchDecode = toSwitch(value);
    else if (argv[i] === '--rate-tolerance') args.rateTolerance = fraction('rate-tolerance', value);
    else if (argv[i] === '--max-disturbed') args.maxDisturbed = fraction('max-disturbed', value);
    else if (argv[i] === '--max-threads') args.maxThreads = Number(value);
    else continue;
    i++;
  }
  return args;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

type ModelReport = {
  shape: string;
  evaluatedVsUnique: number;
  optimized: PathSettings;
  naive: PathSettings;
  batches: number;
  disturbed: number;
  /** Null where the run has no result (`failure` says why). */
  speedup: number | null;
  floorFraction: number | null;
  failure: string | null;
};

async function benchModel(shape: string, tickets: Ticket[], args: Args): Promise<ModelReport> {
  const { threads: threadsSetting, overlap: overlapSetting, flashAttention: flashAttentionSetting, batchDecode: batchDecodeSetting } = args;
  const rule: DisturbanceRule = { rateTolerance: args.rateTolerance };
  const path = await ensureBenchModel(shape);
  console.log(`\n== ${shape}: ${tickets.length} tickets, K=${K}, batches of ${BATCH_GROUPS} groups (load average ${loadavg().map((l) => fmt(l, 1)).join(' ')})`);

  const modelConfig = (sequences: number, contextSize: number, threads: { prompt: number; decode: number }, overlapPrompts = false, batchDecode: boolean | 'auto' = 'auto') =>
    LlamaCppModelSchema.parse({
      backend: 'llama-cpp',
      path,
      gpu: false,
      context_size: contextSize,
      sequences,
      threads: threads.prompt,
      decode_threads: threads.decode,
      batch_size: 512,
      overlap_prompts: overlapPrompts,
      flash_attention: flashAttentionSetting,
      batch_decode: batchDecode,
    });

  // Size the per-sequence context to the workload: longest prompt + generation cap.
  const sizing = await createLlamaCppBackend(modelConfig(1, 8192, { prompt: 1, decode: 1 }), { rollout: 'naive' });
  const promptTokens: Token[][] = [];
  for (const ticket of tickets) {
    for (const variant of ['default', 'checklist'] as const) {
      promptTokens.push(sizing.renderPromptTokens(buildRolloutPrompt({ mission: BENCH_MISSION, experiences: BENCH_EXPERIENCES, ticket, variant, format: SAMPLER.format })));
    }
  }
  const sharedPrefixTokens = await sizing.countTextTokens(buildRolloutPrompt({ mission: BENCH_MISSION, experiences: BENCH_EXPERIENCES, ticket: tickets[0], variant: 'default', format: SAMPLER.format }).userParts[0]);
  await sizing.close();
  const longest = Math.max(...promptTokens.map((t) => t.length));
  const contextSize = Math.ceil((longest + SAMPLER.max_new_tokens + 16) / 256) * 256;
  const sorted = promptTokens.map((t) => t.length).sort((a, b) => a - b);
  console.log(`prompts: experiences block ${sharedPrefixTokens} tokens; full prompt median ${sorted[sorted.length >> 1]}, max ${longest}; context per sequence ${contextSize}`);

  // Floor rates first (best over thread counts, same model, this run); they also pick each path's settings.
  const typical = promptTokens.slice().sort((a, b) => a.length - b.length)[promptTokens.length >> 1];
  // The first batch exactly as the rollout decodes it: its groups' prompts, one per candidate (two variants x K/2 candidates each).
  const firstBatchPrompts = promptTokens.slice(0, 2 * BATCH_GROUPS).flatMap((p) => Array.from({ length: K / 2 }, () => p));
  // One-at-a-time decoding is measured on one candidate per group, the variants alternating (each group's
  // checklist prompt is about 50 tokens longer than its default one): a lone sequence's rate follows its prompt's length.
  const soloIndices = Array.from({ length: BATCH_GROUPS }, (_, g) => g * K + (g % 2) * (K / 2));
  // The bench runs on the CPU (gpu: false), and the floor uses the same attention kernels as both paths.
  const flashAttention = resolveFlashAttention(flashAttentionSetting, { onGpu: false });
  console.log(`flash attention: ${String(flashAttention)} (model.flash_attention: ${flashAttentionSetting})`);
  // The floor's own model and context stay open for the whole bench of this model: the rates are measured here for
  // every thread count (they pick the settings), then again right before and right after every optimized batch.
  const floorModel = await (await getLlamaRuntime(false, physicalCoreCount())).loadModel({ modelPath: path, gpuLayers: 0 });
  // --max-threads caps the counts measured (and so chosen): on a loaded host 2 ggml threads on 2 cores can run
  // 30 times slower than 1 (docs/performance.md, "Threads and batch size"), and the measurement alone then takes tens of minutes.
  const sweep = args.maxThreads > 0 ? Math.min(args.maxThreads, physicalCoreCount()) : physicalCoreCount();
  const floorMeter = await ThroughputMeter.open(floorModel, { decodePrompts: firstBatchPrompts, soloIndices, contextSize, batchSize: 512, flashAttention, maxThreads: sweep });
  // Decode as long as a rollout may (max_new_tokens), over the first batch's own prompts.
  const measureRates = (threadCounts: number[], repeats: number, order?: readonly RateKind[]) =>
    floorMeter.measure({ prompt: typical, decodeTokens: SAMPLER.max_new_tokens, threadCounts, repeats, promptRepeats: 2, order });
  try {
    const samples = await measureRates(Array.from({ length: sweep }, (_, i) => i + 1), 2);
    for (const s of samples) {
      console.log(
        `  threads ${s.threads}: prompt processing ${fmt(s.promptTokensPerSecond, 0)} tok/s, batched decode (${BATCH_GROUPS * K} sequences) ${fmt(s.batchedDecodeTokensPerSecond, 0)} tok/s, one sequence ${fmt(s.singleDecodeTokensPerSecond, 0)} tok/s`,
      );
    }
    // Each path at its own best, from the same rates (pathSettings.ts): prompts on the count with the best prompt
    // rate, decoding on the count and mode with the best decode rate. The optimized path may decode all candidates
    // of a batch in one step (batched) or one candidate at a time (model.batch_decode: false), which can be faster
    // where decoding is bound by each sequence's own attention (a batched step runs every sequence over the longest
    // cache); the naive path is the reference and decodes one candidate at a time.
    // When the optimized path's decode count leaves cores idle, it may overlap prompts on them. Overlapped decodes start
    // group by group and node-llama-cpp then batches only 1-2 sequences per step, so the estimate charges overlapped
    // decoding the single-sequence rate: overlap when max(prompts on the idle cores, decoding at that rate) beats
    // prompts then decoding in one context. Generated tokens are estimated as half of max_new_tokens per candidate.
    const cores = physicalCoreCount();
    const forcedThreads = threadsSetting > 0 ? resolveThreadCount(threadsSetting) : undefined;
    const optimizedBest = bestPathSettings(samples, { modes: optimizedDecodeModes(batchDecodeSetting), forcedThreads });
    const naiveSettings = bestPathSettings(samples, { modes: ['single'], forcedThreads });
    const bestDecodeThreads = optimizedBest.decodeThreads;
    const batchDecode = optimizedBest.decodeMode === 'batched';
    const decodeSample = sampleAt(samples, bestDecodeThreads) as ThroughputSample;
    const uniqueMeter = new PromptPrefixMeter();
    for (const tokens of promptTokens) uniqueMeter.add(tokens);
    const generatedEstimate = (tickets.length * K * SAMPLER.max_new_tokens) / 2;
    const oneContextSeconds = estimatedSeconds(optimizedBest, { promptTokens: uniqueMeter.unique, generatedTokens: generatedEstimate });
    const idle = samples.find((s) => s.threads === cores - bestDecodeThreads);
    const overlapSeconds = idle ? Math.max(uniqueMeter.unique / idle.promptTokensPerSecond, generatedEstimate / decodeSample.singleDecodeTokensPerSecond) : Infinity;
    const overlap = overlapSetting === 'auto' ? threadsSetting === 0 && overlapSeconds < oneContextSeconds : overlapSetting === 'on';
    console.log(
      `estimated optimized rollout: one context ${fmt(oneContextSeconds, 1)} s` +
        (idle ? `, overlapped (prompts on ${idle.threads} idle thread(s), one-sequence decode rate) ${fmt(overlapSeconds, 1)} s` : ' (no idle cores to overlap prompts on)'),
    );
    // Overlapped, decoding keeps its best count and prompts take the cores it leaves (at least one).
    const threads = overlap
      ? resolvePhaseThreads({ threads: 0, decode_threads: Math.min(bestDecodeThreads, Math.max(1, cores - 1)), overlap_prompts: true }, cores)
      : { prompt: optimizedBest.promptThreads, decode: optimizedBest.decodeThreads };
    const optimized: PathSettings = overlap
      ? {
          ...optimizedBest,
          promptThreads: threads.prompt,
          decodeThreads: threads.decode,
          promptRate: (sampleAt(samples, threads.prompt) as ThroughputSample).promptTokensPerSecond,
          decodeRate: decodeRate(sampleAt(samples, threads.decode) as ThroughputSample, optimizedBest.decodeMode),
        }
      : optimizedBest;
    // The naive path evaluates every candidate's whole prompt.
    const naiveWork = { promptTokens: (promptTokens.reduce((sum, t) => sum + t.length, 0) * K) / 2, generatedTokens: generatedEstimate };
    const naiveOnOptimizedThreads = estimatedSeconds(
      {
        promptRate: (sampleAt(samples, optimized.promptThreads) as ThroughputSample).promptTokensPerSecond,
        decodeRate: (sampleAt(samples, optimized.decodeThreads) as ThroughputSample).singleDecodeTokensPerSecond,
      },
      naiveWork,
    );
    console.log(`settings, each path at its own best (from the rates above${forcedThreads ? '; --threads forces both' : ''}):`);
    console.log(`  optimized: ${describeSettings(optimized)}${overlap ? ', overlapped (model.overlap_prompts: prompts in a second context while candidates decode)' : ', one context'}`);
    console.log(
      `  naive:     ${describeSettings(naiveSettings)}; estimated ${fmt(estimatedSeconds(naiveSettings, naiveWork), 1)} s ` +
        `(on the optimized path's thread counts it would be ${fmt(naiveOnOptimizedThreads, 1)} s)`,
    );

    // Two optimized backends with the same settings, and per batch: optimized pass A, the naive path, optimized pass B.
    // A fraction from one pass of a 15-25 s batch moved by ±0.08 between runs on this host's drifting speed; two
    // passes per batch halve that spread's variance. Each pass's floor rates are measured right before and right
    // after it: before, the rates its prompt phase and decode mode depend on last (next to the batch); after, first.
    const optimizedConfig = modelConfig(BATCH_GROUPS * K, contextSize, threads, overlap, batchDecode);
    const optimizedBackends: LlamaCppBackend[] = [];
    for (let pass = 0; pass < 2; pass++) optimizedBackends.push(await createLlamaCppBackend(optimizedConfig, { rollout: 'shared' }));
    const batching = optimizedBackends[0].decodeBatching;
    console.log(`load-time decode check: ${batching.exact === null ? 'not run' : batching.exact ? 'exact' : 'not exact'} — ${batching.reason}`);
    const naiveBackend = await createLlamaCppBackend(modelConfig(1, contextSize, { prompt: naiveSettings.promptThreads, decode: naiveSettings.decodeThreads }), { rollout: 'naive' });
    const backends = [optimizedBackends[0], naiveBackend, optimizedBackends[1]];
    const passOf = (b: number) => (b === 0 ? 0 : b === 2 ? 1 : -1);
    const optimizedThreads = [...new Set([threads.prompt, threads.decode])];
    const usedDecode: RateKind = batchDecode ? 'batched' : 'single';
    const otherDecode: RateKind = batchDecode ? 'single' : 'batched';
    // The naive path's rates at thread counts the optimized brackets do not measure: only next to the naive run
    // (last after pass A, first before pass B), so the naive run is bracketed at its own settings too.
    const naiveExtras = new Map<number, RateKind[]>();
    const needNaive = (threadCount: number, kind: RateKind) => {
      if (!optimizedThreads.includes(threadCount)) naiveExtras.set(threadCount, [...(naiveExtras.get(threadCount) ?? []), kind]);
    };
    needNaive(naiveSettings.decodeThreads, 'single');
    needNaive(naiveSettings.promptThreads, 'prompt');
    const measureNaiveExtras = async (): Promise<ThroughputSample[]> => {
      const out: ThroughputSample[] = [];
      for (const [threadCount, kinds] of naiveExtras) out.push(...(await measureRates([threadCount], 1, kinds)));
      return out;
    };
    const bracketed: BracketedBatch[][] = [[], []];
    const naiveSides: { before: ThroughputSample[]; after: ThroughputSample[] }[] = [];
    let open: { before: ThroughputSample[]; meter: ReturnType<LlamaCppBackend['tokenMeter']> } | null = null;
    const labels = ['optimized A', 'naive', 'optimized B'];
    const progress = ['', '', ''];
    const [passA, naive, passB] = await runRolloutWorkload({
      backends,
      tickets,
      mission: BENCH_MISSION,
      experiences: BENCH_EXPERIENCES,
      sampler: SAMPLER,
      batchSize: BATCH_GROUPS,
      seed: SEED,
      promptBudget: contextSize - SAMPLER.max_new_tokens,
      onBatch: (b, done, total) => {
        progress[b] = `${labels[b]} ${done}/${total}`;
        process.stdout.write(`\r  ${progress.filter(Boolean).join(', ')} tickets`);
      },
      beforeBatch: async (b, batch) => {
        if (passOf(b) < 0) return;
        const extras = b === 2 ? await measureNaiveExtras() : [];
        const before = await measureRates(optimizedThreads, 1, [otherDecode, usedDecode, 'prompt']);
        if (b === 2) naiveSides[batch].after = mergeSamples(before, extras);
        open = { before, meter: backends[b].tokenMeter() };
      },
      afterBatch: async (b, batch) => {
        if (passOf(b) < 0 || !open) return;
        const end = backends[b].tokenMeter();
        const after = await measureRates(optimizedThreads, 1, [usedDecode, 'prompt', otherDecode]);
        if (b === 0) naiveSides[batch] = { before: mergeSamples(after, await measureNaiveExtras()), after: [] };
        bracketed[passOf(b)].push({ unique: end.promptUnique - open.meter.promptUnique, generated: end.generated - open.meter.generated, before: open.before, after });
        open = null;
      },
    });
    process.stdout.write('\n');
    const meter = optimizedBackends[0].tokenMeter();
    const meterB = optimizedBackends[1].tokenMeter();
    const naiveMeter = naiveBackend.tokenMeter();
    for (const backend of backends) await backend.close();

    const passes = [passA, passB];
    const batches: RolloutBatch[] = bracketed[0].map((bracketA, i) => ({
      optimized: [
        { seconds: passA.batchSeconds[i], bracket: bracketA },
        { seconds: passB.batchSeconds[i], bracket: bracketed[1][i] },
      ],
      naive: { seconds: naive.batchSeconds[i], before: naiveSides[i].before, after: naiveSides[i].after },
    }));
    const judgements = batches.map((batch, i) => judgeRolloutBatch(batch, i, { optimized, naive: naiveSettings, overlapped: overlap, rule }));
    for (const [i, batch] of batches.entries()) {
      for (const [p, pass] of batch.optimized.entries()) {
        const floor = batchFloor(pass.bracket, { overlapped: overlap });
        const range = (pick: (s: ThroughputSample) => number) => `${fmt(Math.max(...pass.bracket.before.map(pick)), 0)}→${fmt(Math.max(...pass.bracket.after.map(pick)), 0)}`;
        console.log(
          `  batch ${i + 1}${'AB'[p]}: optimized ${fmt(pass.seconds, 1)} s, floor ${fmt(floor.seconds, 1)} s (${pass.bracket.unique} unique / ${fmt(floor.prompt, 0)} tok/s ${overlap ? 'or' : '+'} ${pass.bracket.generated} generated / ${fmt(floor.decode, 0)} tok/s; ` +
            `before→after: prompt ${range((s) => s.promptTokensPerSecond)}, batched decode ${range((s) => s.batchedDecodeTokensPerSecond)}, one sequence ${range((s) => s.singleDecodeTokensPerSecond)} tok/s)`,
        );
      }
      console.log(`  batch ${i + 1} naive: ${fmt(batch.naive.seconds, 1)} s`);
    }
    console.log(
      `disturbance rule: a run is disturbed when a rate it depends on moved by more than ${fmt(100 * rule.rateTolerance, 0)}% between right before and right after it, ` +
        'or an optimized pass took less than its floor; a batch with a disturbed run is left out of the timing figures (not repeated: the optimized backends then hold its prompts)',
    );
    for (const judgement of judgements) for (const run of judgement.runs) if (run.disturbed) console.log(`  ${describeJudgement(run)}`);
    const summary = summarizeDisturbance(
      judgements.map((j) => ({ label: `batch ${j.index + 1}`, disturbed: j.disturbed, reasons: j.runs.flatMap((r) => r.reasons) })),
      { maxDisturbedFraction: args.maxDisturbed, what: 'batches' },
    );
    const kept = judgements.filter((j) => !j.disturbed).map((j) => j.index);
    console.log(
      `disturbed batches: ${summary.disturbed.length} of ${summary.total}` +
        (summary.disturbed.length > 0
          ? ` (${summary.disturbed.map((j) => j.label).join(', ')}), left out` + (kept.length > 0 ? `; the timing figures below are over batches ${kept.map((i) => i + 1).join(', ')}` : '; no batch is left')
          : ''),
    );
    const evaluatedVsUnique = meter.promptEvaluated / meter.promptUnique;
    const identical = passes.map((pass) => pass.texts.filter((text, i) => text === naive.texts[i]).length);
    console.log(`prompt tokens: total ${meter.promptTotal}, unique ${meter.promptUnique}, evaluated ${meter.promptEvaluated} (optimized, pass B ${meterB.promptEvaluated}) / ${naiveMeter.promptEvaluated} (naive)`);
    console.log(`evaluated / unique: optimized ${fmt(evaluatedVsUnique, 3)}x, naive ${fmt(naiveMeter.promptEvaluated / naiveMeter.promptUnique, 3)}x`);
    console.log(
      `identical candidate texts, optimized vs naive: ${identical.map((n) => `${n}/${naive.texts.length}`).join(' (pass A), ')} (pass B)` +
        `${passA.dropped + passB.dropped + naive.dropped > 0 ? ` (dropped: ${passA.dropped} / ${passB.dropped} / ${naive.dropped})` : ''}` +
        (batching.exact === true
          ? ' — prompt sharing is exact and so is this decode mode (load-time check), so anything short of all means a bug'
          : ' — prompt sharing is exact; batched decode on this model changes logits in the last bits (load-time check), so sampled tokens can flip'),
    );
    const report = { shape, evaluatedVsUnique, optimized, naive: naiveSettings, batches: summary.total, disturbed: summary.disturbed.length };
    if (summary.tooMany) {
      console.log(`no timing figures for ${shape}: ${summary.reason}`);
      return { ...report, speedup: null, floorFraction: null, failure: summary.reason };
    }
    const figures = rolloutFigures(batches, kept, { overlapped: overlap });
    const keptTickets = kept.reduce((sum, i) => sum + Math.min(BATCH_GROUPS, tickets.length - i * BATCH_GROUPS), 0);
    const optimizedSeconds = figures.optimizedSeconds[0] + figures.optimizedSeconds[1];
    const optimizedMean = optimizedSeconds / 2;
    const keptGenerated = (p: number) => kept.reduce((sum, i) => sum + batches[i].optimized[p].bracket.generated, 0);
    console.log(
      `optimized: ${fmt(optimizedMean, 1)} s (passes ${fmt(figures.optimizedSeconds[0], 1)} and ${fmt(figures.optimizedSeconds[1], 1)} s), ${fmt(keptTickets / optimizedMean, 3)} tickets/s, ` +
        `generated ${fmt((keptGenerated(0) + keptGenerated(1)) / optimizedSeconds, 1)} tok/s (over ${keptTickets} tickets)`,
    );
    console.log(`naive:     ${fmt(figures.naiveSeconds, 1)} s, ${fmt(keptTickets / figures.naiveSeconds, 3)} tickets/s`);
    console.log(
      `speedup vs naive, each at its best settings: ${fmt(figures.speedup)}x (pass A alone ${fmt(figures.naiveSeconds / figures.optimizedSeconds[0])}x, pass B alone ${fmt(figures.naiveSeconds / figures.optimizedSeconds[1])}x)`,
    );
    const floorFraction = reportableFraction(figures.floorFraction);
    const passFraction = (p: number) => reportableFraction(figures.floorSeconds[p] / figures.optimizedSeconds[p]);
    const percent = (value: number | null) => (value === null ? 'not reported (above 1)' : `${fmt(100 * value, 1)}%`);
    console.log(
      `floor: ${fmt(figures.floorSeconds[0] + figures.floorSeconds[1], 1)} s for both passes, the sum of the kept batches' floors above (unique prompt tokens / best prompt rate ${overlap ? 'or, overlapped, the larger of that and' : '+'} generated tokens / best decode rate of either mode, ` +
        `each on the mean of the rates right before and right after the batch); optimized reaches ${percent(floorFraction)} of the floor (pass A alone ${percent(passFraction(0))}, pass B alone ${percent(passFraction(1))})`,
    );
    console.log(`batched-rate estimate / optimized (not a floor where one at a time decodes faster): ${fmt(figures.batchedOnlyRatio, 3)}`);
    // Kept batches never beat their floors, so a fraction above 1 cannot come out of them; if it does, it is no result.
    const failure = floorFraction === null ? `the floor fraction came out at ${fmt(figures.floorFraction, 3)}, which no undisturbed run can reach` : null;
    if (failure) console.log(`no floor fraction for ${shape}: ${failure}`);
    return { ...report, speedup: figures.speedup, floorFraction, failure };
  } finally {
    await floorMeter.close();
    await floorModel.dispose();
  }
}

const settingsLine = (s: PathSettings) => `prompt_threads=${s.promptThreads} decode_threads=${s.decodeThreads} decode=${s.decodeMode}`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const present = await access(DATASET).then(() => true, () => false);
  if (!present) {
    console.log(`bench:rollout skipped: ${DATASET} is not present`);
    return;
  }
  const counts: Record<string, number> = { tiny: args.tinyTickets, 'bench-27m': args.benchTickets };
  const { tickets } = await ingestStageA({ paths: [DATASET], mission: BENCH_MISSION, maxTickets: Math.max(...args.models.map((m) => counts[m] ?? args.benchTickets)) });
  console.log(`bench:rollout on ${physicalCoreCount()} physical cores; ${tickets.length} bbu_line tickets loaded`);
  const reports: ModelReport[] = [];
  for (const shape of args.models) reports.push(await benchModel(shape, tickets.slice(0, counts[shape] ?? args.benchTickets), args));
  const main = reports.find((r) => r.shape === 'bench-27m') ?? reports[reports.length - 1];
  console.log(`\nmachine-readable (${main.shape}):`);
  console.log(`evaluated_vs_unique: ${fmt(main.evaluatedVsUnique, 4)}`);
  if (main.speedup !== null) console.log(`speedup_vs_naive: ${fmt(main.speedup, 3)}`);
  if (main.floorFraction !== null) console.log(`floor_fraction: ${fmt(main.floorFraction, 3)}`);
  console.log(`disturbed_batches: ${main.disturbed}/${main.batches}`);
  console.log(`optimized_settings: ${settingsLine(main.optimized)}`);
  console.log(`naive_settings: ${settingsLine(main.naive)}`);
  const failed = reports.filter((r) => r.failure !== null);
  for (const r of failed) console.error(`bench:rollout: ${r.shape} has no result: ${r.failure}`);
  if (failed.length > 0) process.exitCode = 1;
}

await main();
