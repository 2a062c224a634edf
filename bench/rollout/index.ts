/**
 * bench:rollout — prefix sharing and batched decode against the naive path.
 *
 *   npm run bench:rollout [-- --models tiny,bench-27m --tiny-tickets 100 --bench-tickets 24 --threads 0 --overlap auto --flash-attention auto --batch-decode auto]
 *
 * The floor measurement comes first and picks the thread settings, per model (--overlap auto, the default): decoding
 * gets the thread count with the best decode rate, batched or (--batch-decode auto, the default) one candidate at a
 * time when that measured faster; when that leaves cores idle and the measured rates predict that
 * overlapping wins, the optimized path runs with model.overlap_prompts, evaluating prompts on the idle cores in a
 * second context while candidates decode; otherwise both phases use that count in one context. The naive path runs on the same prompt and decode thread counts.
 * --overlap on|off forces the mode; --threads N forces the one-context thread count. --flash-attention sets
 * model.flash_attention for the floor and both paths (auto: off on this CPU-only bench, so batched decode is exact).
 *
 * Workload: real bbu_line tickets (../shared/datasets/bbu-qc-2025), K=4
 * candidates per group, batches of 8 groups, a ~1k-token experiences block,
 * the engine's prompt builder and verdict grammar. The paths run interleaved, batch by batch: optimized pass A,
 * naive, optimized pass B (two backends with the same settings), so every path sits on the same stretches of the
 * host's drifting speed. Prints per model: prompt tokens evaluated / unique, tickets/s optimized (the mean of
 * the passes) vs naive, the floor (unique prompt tokens / best prompt-processing tok/s + generated tokens / best
 * decode tok/s, batched or one at a time, each pass's batch on the mean of the rates measured right before and
 * right after it, summed over the batches of both passes), floor fraction (over both passes), generated tok/s,
 * and how many candidate texts each optimized pass produced identically to the naive path. Ends with
 * three machine-readable lines for bench-27m.
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
import { BENCH_EXPERIENCES, BENCH_MISSION } from './benchGuidance';
import { ensureBenchModel } from './ensureBenchModel';
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
type Args = { models: string[]; tinyTickets: number; benchTickets: number; threads: number; overlap: Switch; flashAttention: Switch; batchDecode: Switch };

function parseArgs(argv: string[]): Args {
  const args: Args = { models: ['tiny', 'bench-27m'], tinyTickets: 100, benchTickets: 24, threads: 0, overlap: 'auto', flashAttention: 'auto', batchDecode: 'auto' };
  const toSwitch = (value: string): Switch => (value === 'on' || value === 'off' ? value : 'auto');
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--models') args.models = value.split(',');
    else if (argv[i] === '--tiny-tickets') args.tinyTickets = Number(value);
    else if (argv[i] === '--bench-tickets') args.benchTickets = Number(value);
    else if (argv[i] === '--threads') args.threads = Number(value);
    else if (argv[i] === '--overlap') args.overlap = toSwitch(value);
    else if (argv[i] === '--flash-attention') args.flashAttention = toSwitch(value);
    else if (argv[i] === '--batch-decode') args.batchDecode = toSwitch(value);
    else continue;
    i++;
  }
  return args;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

type ModelReport = {
  shape: string;
  evaluatedVsUnique: number;
  speedup: number;
  floorFraction: number;
};

/** Per thread count, the mean of each rate measured before and after a batch. */
function meanRates(before: readonly ThroughputSample[], after: readonly ThroughputSample[]): ThroughputSample[] {
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
 * would not be a floor; `batchedOnly` gives that narrower figure, as the issue first defined it).
 */
function floorRates(rates: readonly ThroughputSample[], batchedOnly = false): { prompt: number; decode: number } {
  return {
    prompt: Math.max(...rates.map((s) => s.promptTokensPerSecond)),
    decode: Math.max(...rates.map((s) => (batchedOnly ? s.batchedDecodeTokensPerSecond : Math.max(s.batchedDecodeTokensPerSecond, s.singleDecodeTokensPerSecond)))),
  };
}

/** One optimized batch and the floor rates measured right before and right after it. */
type BracketedBatch = { unique: number; generated: number; before: ThroughputSample[]; after: ThroughputSample[] };

/** A batch's floor and the rates it is built from. */
function batchFloor(batch: BracketedBatch, batchedOnly = false): { seconds: number; prompt: number; decode: number } {
  const { prompt, decode } = floorRates(meanRates(batch.before, batch.after), batchedOnly);
  return { seconds: batch.unique / prompt + batch.generated / decode, prompt, decode };
}

const sumFloors = (batches: readonly BracketedBatch[], batchedOnly = false) => batches.reduce((sum, batch) => sum + batchFloor(batch, batchedOnly).seconds, 0);

async function benchModel(shape: string, tickets: Ticket[], threadsSetting: number, overlapSetting: Switch, flashAttentionSetting: Switch, batchDecodeSetting: Switch): Promise<ModelReport> {
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

  // Floor rates first (best over thread counts, same model, this run); they also pick the thread count when none is forced.
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
  const floorMeter = await ThroughputMeter.open(floorModel, { decodePrompts: firstBatchPrompts, soloIndices, contextSize, batchSize: 512, flashAttention, maxThreads: physicalCoreCount() });
  // Decode as long as a rollout may (max_new_tokens), over the first batch's own prompts.
  const measureRates = (threadCounts: number[], repeats: number, order?: readonly RateKind[]) =>
    floorMeter.measure({ prompt: typical, decodeTokens: SAMPLER.max_new_tokens, threadCounts, repeats, promptRepeats: 2, order });
  try {
    const samples = await measureRates(Array.from({ length: physicalCoreCount() }, (_, i) => i + 1), 2);
    for (const s of samples) {
      console.log(
        `  threads ${s.threads}: prompt processing ${fmt(s.promptTokensPerSecond, 0)} tok/s, batched decode (${BATCH_GROUPS * K} sequences) ${fmt(s.batchedDecodeTokensPerSecond, 0)} tok/s, one sequence ${fmt(s.singleDecodeTokensPerSecond, 0)} tok/s`,
      );
    }
    // Decoding dominates rollouts, so it gets the thread count and mode with the best decode rate: all candidates of a
    // batch in one step (batched), or one candidate at a time (model.batch_decode: false), which can be faster where
    // decoding is bound by each sequence's own attention (a batched step runs every sequence over the longest cache).
    // When the best count leaves cores idle, the optimized path may overlap prompts on them. Overlapped decodes start
    // group by group and node-llama-cpp then batches only 1-2 sequences per step, so the estimate charges overlapped
    // decoding the single-sequence rate: overlap when max(prompts on the idle cores, decoding at that rate) beats
    // prompts then decoding in one context. Generated tokens are estimated as half of max_new_tokens per candidate.
    const cores = physicalCoreCount();
    const batchedAt = (s: ThroughputSample) =>
      batchDecodeSetting === 'on' ? true : batchDecodeSetting === 'off' ? false : s.batchedDecodeTokensPerSecond >= s.singleDecodeTokensPerSecond;
    const decodeRateAt = (s: ThroughputSample) => (batchedAt(s) ? s.batchedDecodeTokensPerSecond : s.singleDecodeTokensPerSecond);
    const forced = threadsSetting > 0 ? samples.find((s) => s.threads === resolveThreadCount(threadsSetting)) : undefined;
    const best = forced ?? samples.reduce((a, b) => (decodeRateAt(b) > decodeRateAt(a) ? b : a));
    const bestDecodeThreads = best.threads;
    const batchDecode = batchedAt(best);
    const uniqueMeter = new PromptPrefixMeter();
    for (const tokens of promptTokens) uniqueMeter.add(tokens);
    const generatedEstimate = (tickets.length * K * SAMPLER.max_new_tokens) / 2;
    const oneContextSeconds = uniqueMeter.unique / best.promptTokensPerSecond + generatedEstimate / decodeRateAt(best);
    const idle = samples.find((s) => s.threads === cores - bestDecodeThreads);
    const overlapSeconds = idle ? Math.max(uniqueMeter.unique / idle.promptTokensPerSecond, generatedEstimate / best.singleDecodeTokensPerSecond) : Infinity;
    const overlap = overlapSetting === 'auto' ? threadsSetting === 0 && overlapSeconds < oneContextSeconds : overlapSetting === 'on';
    console.log(
      `estimated rollout at ${bestDecodeThreads} decode thread(s), ${batchDecode ? 'batched decode' : 'one candidate at a time'}: one context ${fmt(oneContextSeconds, 1)} s` +
        (idle ? `, overlapped (prompts on ${idle.threads} idle thread(s), one-sequence decode rate) ${fmt(overlapSeconds, 1)} s` : ' (no idle cores to overlap prompts on)'),
    );
    // Overlapped, decoding keeps its best count and prompts take the cores it leaves (at least one).
    const threads = overlap
      ? resolvePhaseThreads({ threads: 0, decode_threads: Math.min(bestDecodeThreads, Math.max(1, cores - 1)), overlap_prompts: true }, cores)
      : { prompt: bestDecodeThreads, decode: bestDecodeThreads };
    console.log(
      overlap
        ? `optimized path: model.overlap_prompts, prompts on ${threads.prompt} thread(s) while decoding on ${threads.decode}; naive path: prompts on ${threads.prompt}, decoding on ${threads.decode}`
        : `threads for both paths: ${bestDecodeThreads}${threadsSetting > 0 ? ' (forced)' : ' (best decode rate above)'}`,
    );
    console.log(
      `optimized path decodes ${batchDecode ? 'all candidates of a batch together (model.batch_decode: true)' : 'one candidate at a time (model.batch_decode: false)'}` +
        (batchDecodeSetting === 'auto' ? ` — ${fmt(best.batchedDecodeTokensPerSecond, 0)} tok/s batched against ${fmt(best.singleDecodeTokensPerSecond, 0)} one at a time on ${best.threads} thread(s)` : ' (forced)'),
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
    const naiveBackend = await createLlamaCppBackend(modelConfig(1, contextSize, threads), { rollout: 'naive' });
    const backends = [optimizedBackends[0], naiveBackend, optimizedBackends[1]];
    const passOf = (b: number) => (b === 0 ? 0 : b === 2 ? 1 : -1);
    const runThreads = [...new Set([threads.prompt, threads.decode])];
    const usedDecode: RateKind = batchDecode ? 'batched' : 'single';
    const otherDecode: RateKind = batchDecode ? 'single' : 'batched';
    const bracketed: BracketedBatch[][] = [[], []];
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
      beforeBatch: async (b) => {
        if (passOf(b) < 0) return;
        const before = await measureRates(runThreads, 1, [otherDecode, usedDecode, 'prompt']);
        open = { before, meter: backends[b].tokenMeter() };
      },
      afterBatch: async (b) => {
        if (passOf(b) < 0 || !open) return;
        const end = backends[b].tokenMeter();
        const after = await measureRates(runThreads, 1, [usedDecode, 'prompt', otherDecode]);
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
    for (const [p, batches] of bracketed.entries()) {
      for (const [i, batch] of batches.entries()) {
        const floor = batchFloor(batch);
        const range = (pick: (s: ThroughputSample) => number) => `${fmt(Math.max(...batch.before.map(pick)), 0)}→${fmt(Math.max(...batch.after.map(pick)), 0)}`;
        console.log(
          `  batch ${i + 1}${'AB'[p]}: optimized ${fmt(passes[p].batchSeconds[i], 1)} s, floor ${fmt(floor.seconds, 1)} s (${batch.unique} unique / ${fmt(floor.prompt, 0)} tok/s + ${batch.generated} generated / ${fmt(floor.decode, 0)} tok/s; ` +
            `before→after: prompt ${range((s) => s.promptTokensPerSecond)}, batched decode ${range((s) => s.batchedDecodeTokensPerSecond)}, one sequence ${range((s) => s.singleDecodeTokensPerSecond)} tok/s)`,
        );
      }
    }
    const allBatches = bracketed.flat();
    const floorSeconds = sumFloors(allBatches);
    const batchedOnlyFloorSeconds = sumFloors(allBatches, true);
    const optimizedSeconds = passA.seconds + passB.seconds;
    const evaluatedVsUnique = meter.promptEvaluated / meter.promptUnique;
    // One optimized pass's time, as the mean of the two, against the naive path's one pass.
    const optimizedMean = optimizedSeconds / 2;
    const speedup = naive.seconds / optimizedMean;
    const floorFraction = floorSeconds / optimizedSeconds;
    const identical = passes.map((pass) => pass.texts.filter((text, i) => text === naive.texts[i]).length);

    console.log(`prompt tokens: total ${meter.promptTotal}, unique ${meter.promptUnique}, evaluated ${meter.promptEvaluated} (optimized, pass B ${meterB.promptEvaluated}) / ${naiveMeter.promptEvaluated} (naive)`);
    console.log(`evaluated / unique: optimized ${fmt(evaluatedVsUnique, 3)}x, naive ${fmt(naiveMeter.promptEvaluated / naiveMeter.promptUnique, 3)}x`);
    console.log(
      `optimized: ${fmt(optimizedMean, 1)} s (passes ${fmt(passA.seconds, 1)} and ${fmt(passB.seconds, 1)} s), ${fmt(tickets.length / optimizedMean, 3)} tickets/s, ` +
        `generated ${passA.generatedTokens} tokens = ${fmt((passA.generatedTokens + passB.generatedTokens) / optimizedSeconds, 1)} tok/s`,
    );
    console.log(`naive:     ${fmt(naive.seconds, 1)} s, ${fmt(tickets.length / naive.seconds, 3)} tickets/s, generated ${naive.generatedTokens} tokens = ${fmt(naive.generatedTokens / naive.seconds, 1)} tok/s`);
    console.log(`speedup vs naive: ${fmt(speedup)}x (pass A alone ${fmt(naive.seconds / passA.seconds)}x, pass B alone ${fmt(naive.seconds / passB.seconds)}x)`);
    console.log(
      `floor: ${fmt(floorSeconds, 1)} s for both passes, the sum of the batches' floors above (unique prompt tokens / best prompt rate + generated tokens / best decode rate of either mode, ` +
        `each on the mean of the rates right before and right after the batch); optimized reaches ${fmt(100 * floorFraction, 1)}% of the floor ` +
        `(pass A alone ${fmt(100 * sumFloors(bracketed[0]) / passA.seconds, 1)}%, pass B alone ${fmt(100 * sumFloors(bracketed[1]) / passB.seconds, 1)}%)` +
        `${overlap ? ' (the floor adds the two phases; overlapped, they run at once, so it can be passed)' : ''}`,
    );
    console.log(`floor fraction with the batched-decode rate alone in the floor: ${fmt(batchedOnlyFloorSeconds / optimizedSeconds, 3)}`);
    console.log(
      `identical candidate texts, optimized vs naive: ${identical.map((n) => `${n}/${naive.texts.length}`).join(' (pass A), ')} (pass B)` +
        `${passA.dropped + passB.dropped + naive.dropped > 0 ? ` (dropped: ${passA.dropped} / ${passB.dropped} / ${naive.dropped})` : ''}` +
        (batching.exact === true
          ? ' — prompt sharing is exact and so is this decode mode (load-time check), so anything short of all means a bug'
          : ' — prompt sharing is exact; batched decode on this model changes logits in the last bits (load-time check), so sampled tokens can flip'),
    );
    return { shape, evaluatedVsUnique, speedup, floorFraction };
  } finally {
    await floorMeter.close();
    await floorModel.dispose();
  }
}

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
  for (const shape of args.models) reports.push(await benchModel(shape, tickets.slice(0, counts[shape] ?? args.benchTickets), args.threads, args.overlap, args.flashAttention, args.batchDecode));
  const main = reports.find((r) => r.shape === 'bench-27m') ?? reports[reports.length - 1];
  console.log(`\nmachine-readable (${main.shape}):`);
  console.log(`evaluated_vs_unique: ${fmt(main.evaluatedVsUnique, 4)}`);
  console.log(`speedup_vs_naive: ${fmt(main.speedup, 3)}`);
  console.log(`floor_fraction: ${fmt(main.floorFraction, 3)}`);
}

await main();
