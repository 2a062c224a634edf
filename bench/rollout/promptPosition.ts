/**
 * bench:prompt-position — how a prompt chunk's rate depends on where it starts.
 *
 *   npm run bench:prompt-position [-- <rounds, default 4>]
 *
 * With the shared block evaluated once, every token the optimized rollout still
 * evaluates sits behind it: a group's part starts at about 1,450 tokens and its
 * variant suffix at about 1,800. bench:rollout's floor charges those tokens the
 * rate of a whole prompt evaluated from position 0. This times, on bench-27m (the
 * physical cores' threads, no flash attention, batch size 512, one sequence):
 * - a 1,830-token prompt from position 0 (the floor's kind of rate);
 * - a 380-token chunk (a group part's size) from position 0, and the same chunk
 *   after a held 1,450-token prefix;
 * - a 55-token chunk (a variant suffix) after a held 1,775-token prefix.
 * Each round runs the four in turn; the rates printed are medians over rounds. Ends with the ratio of the group-sized chunk's rate
 * from position 0 to its rate behind the prefix.
 */
import { getLlamaRuntime, physicalCoreCount } from '../../src/main/llm/llamaRuntime';
import { ensureBenchModel } from './ensureBenchModel';
import { syntheticPromptTokens } from './syntheticPromptTokens';

const FULL = 1830;
const PREFIX = 1450;
const SUFFIX_START = 1775;

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[values.length >> 1];

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 4);
  if (!Number.isInteger(rounds) || rounds <= 0) throw new Error(`bench:prompt-position: rounds must be a positive integer, got ${process.argv[2]}`);
  const threads = physicalCoreCount();
  const model = await (await getLlamaRuntime(false, threads)).loadModel({ modelPath: await ensureBenchModel('bench-27m'), gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 2304, sequences: 1, threads, batchSize: 512, flashAttention: false, failedCreationRemedy: false });
  const sequence = context.getSequence();
  const tokens = syntheticPromptTokens(FULL);
  const rate = async (start: number, end: number): Promise<number> => {
    await sequence.clearHistory();
    if (start > 0) await sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(0, start));
    const started = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(start, end));
    return (end - start) / ((performance.now() - started) / 1000);
  };
  // The first pass after loading runs slower (cold caches and pages); it is not counted.
  await rate(0, FULL);
  const cases = [
    { label: `${FULL} tokens from position 0`, start: 0, end: FULL },
    { label: `${FULL - PREFIX} tokens from position 0`, start: 0, end: FULL - PREFIX },
    { label: `${FULL - PREFIX} tokens from position ${PREFIX}`, start: PREFIX, end: FULL },
    { label: `${FULL - SUFFIX_START} tokens from position ${SUFFIX_START}`, start: SUFFIX_START, end: FULL },
  ];
  const rates = cases.map(() => [] as number[]);
  console.log(`bench:prompt-position: bench-27m, ${threads} thread(s), batch size 512, ${rounds} round(s)`);
  for (let round = 0; round < rounds; round++) {
    for (const [i, c] of cases.entries()) rates[i].push(await rate(c.start, c.end));
  }
  for (const [i, c] of cases.entries()) console.log(`  ${c.label.padEnd(32)} ${median(rates[i]).toFixed(0)} tok/s (${rates[i].map((r) => r.toFixed(0)).join(', ')})`);
  console.log(`group_chunk_at_0_vs_behind_prefix: ${(median(rates[1]) / median(rates[2])).toFixed(3)}`);
  console.log(`full_prompt_vs_group_chunk_behind_prefix: ${(median(rates[0]) / median(rates[2])).toFixed(3)}`);
  await context.dispose();
  await model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
