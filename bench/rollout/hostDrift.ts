/**
 * bench:host-drift — how much this machine's speed wanders while nothing else changes.
 *
 *   npm run bench:host-drift [-- <seconds, default 150>]
 *
 * Evaluates the same 1,800-token prompt on bench-27m (2 threads or the physical
 * cores, no flash attention) again and again for the given time and prints the
 * prompt-processing rate of each pass, then the slowest and fastest pass and
 * their ratio. bench:rollout's floor rates are a few seconds each; this is the
 * evidence for measuring them before and after the optimized path.
 */
import { getLlamaRuntime, physicalCoreCount } from '../../src/main/llm/llamaRuntime';
import { ensureBenchModel } from './ensureBenchModel';
import { syntheticPromptTokens } from './syntheticPromptTokens';

const PROMPT_TOKENS = 1800;

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 150);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`bench:host-drift: seconds must be a positive number, got ${process.argv[2]}`);
  const path = await ensureBenchModel('bench-27m');
  const threads = physicalCoreCount();
  const llama = await getLlamaRuntime(false, threads);
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 2304, sequences: 1, threads, batchSize: 512, flashAttention: false, failedCreationRemedy: false });
  const sequence = context.getSequence();
  const tokens = syntheticPromptTokens(PROMPT_TOKENS);
  // The first pass after loading runs ~25% slower (cold caches and pages); it is not counted.
  await sequence.evaluateWithoutGeneratingNewTokens(tokens);
  const rates: number[] = [];
  const started = performance.now();
  console.log(`bench:host-drift: ${PROMPT_TOKENS}-token prompt on bench-27m, ${threads} thread(s), for ${seconds} s`);
  while (performance.now() - started < seconds * 1000) {
    await sequence.clearHistory();
    const t = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(tokens);
    const rate = PROMPT_TOKENS / ((performance.now() - t) / 1000);
    rates.push(rate);
    console.log(`  ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s: ${rate.toFixed(0)} tok/s`);
  }
  await context.dispose();
  await model.dispose();
  const slowest = Math.min(...rates);
  const fastest = Math.max(...rates);
  console.log(`passes: ${rates.length}; slowest ${slowest.toFixed(0)} tok/s, fastest ${fastest.toFixed(0)} tok/s`);
  console.log(`fastest_vs_slowest: ${(fastest / slowest).toFixed(3)}`);
}

await main();
