/**
 * bench:generation-loop — what the per-token loop around llama.cpp's decode costs.
 *
 *   npm run bench:generation-loop [-- <rounds, default 3> <model shape, default bench-27m>]
 *
 * On the first 8 bbu_line tickets' rollout prompts (the engine's prompt builder and
 * verdict grammar, max_new_tokens 160), one sequence, the physical cores' threads,
 * each prompt held minus its last token before every timed generation:
 * - `LlamaCompletion`: node-llama-cpp's completion, which the engine used before;
 * - `generateOnSequence`: the engine's loop on the public sequence.evaluate;
 * - bare `sequence.evaluate` with no grammar and no end token (what bench:rollout's
 *   floor times), as many decode steps as generateOnSequence took for that prompt.
 * Per prompt the first two swap places every round and the bare loop runs last.
 * Prints ms per decode step for each, the ratios, and how many texts the first two share.
 */
import { LlamaCompletion, type LlamaModel, type Token } from 'node-llama-cpp';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRolloutPrompt } from '../../src/main/engine/promptBuilder';
import { ingestStageA } from '../../src/main/io/ingestStageA';
import { createLlamaCppBackend } from '../../src/main/llm/LlamaCppBackend';
import { generateOnSequence } from '../../src/main/llm/llama/generateOnSequence';
import { getLlamaRuntime, physicalCoreCount } from '../../src/main/llm/llamaRuntime';
import { LlamaCppModelSchema } from '../../src/shared/schemas/runConfig';
import { verdictGrammar } from '../../src/shared/verdictProtocol';
import { BENCH_EXPERIENCES, BENCH_MISSION } from './benchGuidance';
import { ensureBenchModel } from './ensureBenchModel';
import { decodeExactly } from './ThroughputMeter';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DATASET = resolve(ROOT, '../shared/datasets/bbu-qc-2025/bbu_line.stage_a.jsonl');
const MAX_NEW_TOKENS = 160;
const PROMPTS = 8;
const LOOPS = ['LlamaCompletion', 'generateOnSequence', 'bare evaluate'] as const;
type Loop = (typeof LOOPS)[number];

async function renderPrompts(path: string): Promise<Token[][]> {
  const { tickets } = await ingestStageA({ paths: [DATASET], mission: BENCH_MISSION, maxTickets: PROMPTS });
  const sizing = await createLlamaCppBackend(LlamaCppModelSchema.parse({ backend: 'llama-cpp', path, gpu: false, context_size: 8192, sequences: 1, threads: 1 }), { rollout: 'naive' });
  try {
    return tickets.map((ticket) => sizing.renderPromptTokens(buildRolloutPrompt({ mission: BENCH_MISSION, experiences: BENCH_EXPERIENCES, ticket, variant: 'default', format: 'three_line' })));
  } finally {
    await sizing.close();
  }
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const shape = process.argv[3] ?? 'bench-27m';
  if (!Number.isInteger(rounds) || rounds <= 0) throw new Error(`bench:generation-loop: rounds must be a positive integer, got ${process.argv[2]}`);
  const path = await ensureBenchModel(shape);
  const prompts = await renderPrompts(path);
  const threads = physicalCoreCount();
  const llama = await getLlamaRuntime(false, threads);
  const model: LlamaModel = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const longest = Math.max(...prompts.map((p) => p.length));
  const context = await model.createContext({ contextSize: Math.ceil((longest + MAX_NEW_TOKENS + 16) / 256) * 256, sequences: 1, threads, batchSize: 512, flashAttention: false, failedCreationRemedy: false });
  const sequence = context.getSequence();
  const completion = new LlamaCompletion({ contextSequence: sequence });
  const grammar = await llama.createGrammar({ grammar: verdictGrammar('three_line', 40) });
  console.log(`bench:generation-loop: ${shape}, ${prompts.length} prompts (${Math.min(...prompts.map((p) => p.length))}-${longest} tokens), ${threads} thread(s), ${rounds} round(s)`);

  const milliseconds: Record<Loop, number> = { LlamaCompletion: 0, generateOnSequence: 0, 'bare evaluate': 0 };
  const sampled: Record<Loop, number> = { LlamaCompletion: 0, generateOnSequence: 0, 'bare evaluate': 0 };
  let sameText = 0;
  for (let round = 0; round < rounds; round++) {
    // The two loops under test swap places every round; the bare loop runs last, as many steps as generateOnSequence took.
    const order: Loop[] = round % 2 === 0 ? ['LlamaCompletion', 'generateOnSequence', 'bare evaluate'] : ['generateOnSequence', 'LlamaCompletion', 'bare evaluate'];
    for (const [i, prompt] of prompts.entries()) {
      const seed = 100 * round + i;
      const texts: Partial<Record<Loop, string>> = {};
      let generateOnSequenceSteps = MAX_NEW_TOKENS;
      for (const loop of order) {
        await sequence.clearHistory();
        await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
        const started = performance.now();
        if (loop === 'LlamaCompletion') {
          const result = await completion.generateCompletionWithMeta(prompt.slice(), { maxTokens: MAX_NEW_TOKENS, temperature: 0.7, topP: 0.9, seed, grammar, repeatPenalty: false, disableContextShift: true, contextShiftSize: 1 });
          texts[loop] = result.response;
        } else if (loop === 'generateOnSequence') {
          texts[loop] = (await generateOnSequence(sequence, prompt, { maxTokens: MAX_NEW_TOKENS, temperature: 0.7, topP: 0.9, seed, grammar })).text;
        } else {
          await decodeExactly(sequence, prompt, seed, generateOnSequenceSteps);
        }
        milliseconds[loop] += performance.now() - started;
        // Decode steps: the last prompt token, then every sampled token but the last (which is returned, not evaluated).
        const steps = sequence.nextTokenIndex - prompt.length + 1;
        if (loop === 'generateOnSequence') generateOnSequenceSteps = steps;
        sampled[loop] += steps;
      }
      if (texts.LlamaCompletion === texts.generateOnSequence) sameText++;
    }
  }
  const perToken = (loop: Loop) => milliseconds[loop] / sampled[loop];
  for (const loop of LOOPS) console.log(`  ${loop.padEnd(19)} ${sampled[loop]} steps, ${perToken(loop).toFixed(3)} ms per decode step`);
  console.log(`  texts equal (LlamaCompletion, generateOnSequence): ${sameText}/${rounds * prompts.length}`);
  console.log(`LlamaCompletion_vs_generateOnSequence: ${(perToken('LlamaCompletion') / perToken('generateOnSequence')).toFixed(3)}`);
  console.log(`generateOnSequence_vs_bare_evaluate: ${(perToken('generateOnSequence') / perToken('bare evaluate')).toFixed(3)}`);
  await context.dispose();
  await model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
