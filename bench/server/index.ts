/**
 * bench:server — the rollout workload of bench:rollout three ways: the embedded backend (node-llama-cpp in
 * process), one llama-server with --parallel slots and its prompt cache, and two llama-server replicas behind
 * HAProxy on loopback, the last two through `model.backend: openai`.
 *
 *   npm run bench:server [-- --model tiny --tickets 48 --threads 0 --rate-tolerance 0.25 --max-disturbed 0.5]
 *
 * Workload (bench/rollout's own code: runRolloutWorkload, benchGuidance, ensureBenchModel): real bbu_line
 * tickets (../shared/datasets/bbu-qc-2025), K=4 candidates per group, batches of 8 groups, the engine's prompt
 * builder and verdict grammar. The three paths run interleaved, batch by batch, so each sits on the same
 * stretches of the host's drifting speed. Compute is the same on every path: the embedded backend and the one
 * server get all `--threads` (default: the physical cores) and 32 sequences / slots (8 groups × K); the two
 * replicas get half the threads and 16 slots each, with `concurrency` 32 in front of them.
 *
 * Prints tickets/s of each path and its ratio to the embedded path, the server paths' prompt tokens evaluated
 * (timings.prompt_n, net of the slot cache) against the unique prompt tokens, and ends with two machine-readable
 * lines: `server_vs_embedded: <ratio>` and `replicas_vs_one_server: <ratio>`.
 *
 * Disturbance rule (../shared/disturbance.ts): a host probe (../shared/hostProbe.ts) is sampled right before and
 * right after each path's run of each batch; a batch is disturbed when any path's probe moved by more than
 * --rate-tolerance, and it is left out of every path's tickets/s (the ratios compare the paths on the same
 * batches). It prints `disturbed_batches: <n> of <total>`; with more than --max-disturbed of them disturbed it prints
 * no ratio and exits 1.
 *
 * Needs a llama-server binary (scripts/build-llama-server.sh; STAGEB_LLAMA_SERVER) and haproxy.
 */
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingestStageA } from '../../src/main/io/ingestStageA';
import { createLlamaCppBackend } from '../../src/main/llm/LlamaCppBackend';
import { createOpenAiBackend } from '../../src/main/llm/OpenAiBackend';
import { physicalCoreCount, resolveThreadCount } from '../../src/main/llm/llamaRuntime';
import type { LlmBackend } from '../../src/main/llm/LlmBackend';
import { buildRolloutPrompt } from '../../src/main/engine/promptBuilder';
import { LlamaCppModelSchema, OpenAiModelSchema, type RunConfig } from '../../src/shared/schemas/runConfig';
import { BENCH_EXPERIENCES, BENCH_MISSION } from '../rollout/benchGuidance';
import { ensureBenchModel } from '../rollout/ensureBenchModel';
import { runRolloutWorkload } from '../rollout/runRolloutWorkload';
import { DEFAULT_RATE_TOLERANCE, describeJudgement } from '../shared/disturbance';
import { jsonParseRate } from '../shared/hostProbe';
import { serverFigures, type BatchSample } from './serverFigures';
import { findHaproxy, findLlamaServer, startHaproxy, startLlamaServer, type ManagedProcess } from '../../test/helpers/llamaServer';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DATASET = resolve(ROOT, '../shared/datasets/bbu-qc-2025/bbu_line.stage_a.jsonl');
const BATCH_GROUPS = 8;
const K = 4;
const SEED = 17;
const SLOTS = BATCH_GROUPS * K;

/** bench:rollout's sampler. */
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

type Args = { model: string; tickets: number; threads: number; rateTolerance: number; maxDisturbed: number };

function parseArgs(argv: string[]): Args {
  const args: Args = { model: 'tiny', tickets: 48, threads: 0, rateTolerance: DEFAULT_RATE_TOLERANCE, maxDisturbed: 0.5 };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--model') args.model = value;
    else if (argv[i] === '--tickets') args.tickets = Number(value);
    else if (argv[i] === '--threads') args.threads = Number(value);
    else if (argv[i] === '--rate-tolerance') args.rateTolerance = Number(value);
    else if (argv[i] === '--max-disturbed') args.maxDisturbed = Number(value);
    else continue;
    i++;
  }
  return args;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const binary = findLlamaServer();
  const haproxy = findHaproxy();
  if (!binary) throw new Error('bench:server needs llama-server: run scripts/build-llama-server.sh and export STAGEB_LLAMA_SERVER=<the path it prints>');
  if (!haproxy) throw new Error('bench:server needs haproxy (apt-get install haproxy)');

  const cores = physicalCoreCount();
  const threads = args.threads > 0 ? resolveThreadCount(args.threads) : cores;
  const replicaThreads = Math.max(1, Math.floor(threads / 2));
  const model = await ensureBenchModel(args.model);
  const { tickets } = await ingestStageA({ paths: [DATASET], mission: BENCH_MISSION, maxTickets: args.tickets });
  console.log(`bench:server on ${cores} physical cores (load average ${loadavg().map((l) => fmt(l, 1)).join(' ')}); ${tickets.length} bbu_line tickets, K=${K}, batches of ${BATCH_GROUPS}; model ${args.model}`);

  // Context per sequence / slot: the longest prompt plus the generation cap, as bench:rollout sizes it.
  const sizing = await createLlamaCppBackend(LlamaCppModelSchema.parse({ backend: 'llama-cpp', path: model, gpu: false, context_size: 8192, sequences: 1, threads: 1 }), {
    rollout: 'naive',
  });
  let longest = 0;
  for (const ticket of tickets) {
    for (const variant of ['default', 'checklist'] as const) {
      const prompt = buildRolloutPrompt({ mission: BENCH_MISSION, experiences: BENCH_EXPERIENCES, ticket, variant, format: SAMPLER.format });
      longest = Math.max(longest, await sizing.countPromptTokens(prompt));
    }
  }
  await sizing.close();
  const contextSize = Math.ceil((longest + SAMPLER.max_new_tokens + 16) / 256) * 256;
  console.log(`longest prompt ${longest} tokens; context per sequence / slot ${contextSize}`);

  const processes: ManagedProcess[] = [];
  const backends: LlmBackend[] = [];
  try {
    const embedded = await createLlamaCppBackend(
      LlamaCppModelSchema.parse({ backend: 'llama-cpp', path: model, gpu: false, context_size: contextSize, sequences: SLOTS, threads, batch_size: 512 }),
      { rollout: 'shared' },
    );
    backends.push(embedded);

    const one = await startLlamaServer({ binary, model, parallel: SLOTS, contextSize: SLOTS * contextSize, threads });
    processes.push(one);
    const replicas = await Promise.all([0, 1].map(() => startLlamaServer({ binary, model, parallel: SLOTS / 2, contextSize: (SLOTS / 2) * contextSize, threads: replicaThreads })));
    processes.push(...replicas);
    const balancer = await startHaproxy(haproxy, replicas);
    processes.push(balancer);
    const openai = (baseUrl: string) =>
      createOpenAiBackend(OpenAiModelSchema.parse({ backend: 'openai', base_url: baseUrl, model: args.model, concurrency: SLOTS, context_size: contextSize, timeout_ms: 600_000 }));
    const server = openai(one.baseUrl);
    const pair = openai(balancer.baseUrl);
    backends.push(server, pair);
    console.log(`embedded: ${SLOTS} sequences, ${threads} thread(s); one llama-server: --parallel ${SLOTS} -t ${threads}; two replicas: --parallel ${SLOTS / 2} -t ${replicaThreads} each, behind HAProxy`);

    const labels = ['embedded', 'one server', 'replicas'];
    const progress = ['', '', ''];
    // The disturbance rule (../shared/disturbance.ts): the host probe right before and right after each path's batch.
    const samples: BatchSample[] = [];
    let before: Record<string, number> = {};
    const [embeddedRun, serverRun, pairRun] = await runRolloutWorkload({
      backends,
      tickets,
      mission: BENCH_MISSION,
      experiences: BENCH_EXPERIENCES,
      sampler: SAMPLER,
      batchSize: BATCH_GROUPS,
      seed: SEED,
      promptBudget: contextSize - SAMPLER.max_new_tokens,
      beforeBatch: async () => {
        before = { 'JSON parse MB/s': jsonParseRate() };
      },
      afterBatch: async (path, batch) => {
        samples.push({ path, batch, before, after: { 'JSON parse MB/s': jsonParseRate() } });
      },
      onBatch: (b, done, total) => {
        progress[b] = `${labels[b]} ${done}/${total}`;
        process.stdout.write(`\r  ${progress.filter(Boolean).join(', ')} tickets`);
      },
    });
    process.stdout.write('\n');

    const runs = [embeddedRun, serverRun, pairRun];
    const batchTickets = embeddedRun.batchSeconds.map((_, batch) => Math.min(BATCH_GROUPS, tickets.length - batch * BATCH_GROUPS));
    const figures = serverFigures({
      samples,
      batchSeconds: runs.map((run) => run.batchSeconds),
      batchTickets,
      labels,
      rule: { rateTolerance: args.rateTolerance },
      maxDisturbedFraction: args.maxDisturbed,
    });
    for (const judgement of figures.batches.filter((j) => j.disturbed)) console.log(`disturbed, left out: ${describeJudgement(judgement)}`);
    console.log(`disturbed_batches: ${figures.summary.disturbed.length} of ${figures.summary.total} (tolerance ${(100 * args.rateTolerance).toFixed(0)}%)`);
    if (figures.summary.tooMany) {
      console.log(`no result: ${figures.summary.reason}`);
      process.exitCode = 1;
      return;
    }
    const rates = figures.rates as number[];
    const embeddedRate = rates[0];
    // Unique prompt tokens as the embedded backend counts them (token ids, shared prefixes once): the least any
    // path must evaluate. Over HTTP only whole prompts are known, so the server paths' own promptUnique counts
    // every distinct prompt in full; it is printed beside. Token counts cover every batch, disturbed ones included.
    const unique = embedded.tokenMeter().promptUnique;
    console.log(`unique prompt tokens (shared prefixes once): ${unique}; tickets/s over the ${figures.keptTickets} tickets of the kept batches`);
    for (const [i, run] of runs.entries()) {
      const meter = backends[i].tokenMeter();
      console.log(
        `${labels[i].padEnd(10)} ${fmt(run.seconds, 1)} s, ${fmt(rates[i], 3)} tickets/s (${fmt(rates[i] / embeddedRate, 2)}x embedded), ` +
          `generated ${run.generatedTokens} tokens, prompt tokens evaluated ${meter.promptEvaluated} = ${fmt(meter.promptEvaluated / Math.max(1, unique), 2)}x unique` +
          (i > 0 ? ` (sent ${meter.promptTotal}, reused from the slot cache ${meter.promptTotal - meter.promptEvaluated}; distinct whole prompts ${meter.promptUnique})` : '') +
          (run.dropped > 0 ? `, ${run.dropped} dropped over budget` : ''),
      );
    }
    const load = loadavg()[0];
    if (load > cores) {
      console.log(`warning: load average ${fmt(load, 1)} on ${cores} cores: other work shared the CPUs, and multi-threaded decoding suffers most; the ratios below are not this host's`);
    }
    console.log(`requests served per replica: ${replicas.map((r) => r.counted('served')).join(' and ')}`);
    console.log(
      `On ${cores} cores the replicas share the cores one server had: their ratio shows the cost of the split (two processes, half the slots ` +
        'each, a balancer hop), not added compute. On N machines, one replica each, the same workload scales up to about N x one server, ' +
        'less the balancer hop, as long as concurrency covers every slot.',
    );
    console.log(`server_vs_embedded: ${fmt(rates[1] / embeddedRate, 3)}`);
    console.log(`replicas_vs_one_server: ${fmt(rates[2] / rates[1], 3)}`);
  } finally {
    await Promise.all(backends.map((b) => b.close()));
    await Promise.all(processes.map((p) => p.stop()));
  }
}

// Ctrl-C or a timeout: exit through 'exit', where test/helpers/llamaServer.ts kills the servers it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
