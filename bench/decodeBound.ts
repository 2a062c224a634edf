/**
 * bench:decode-bound — decode tokens/s against the memory-bandwidth bound, single-sequence and batched.
 *
 *   npm run bench:decode-bound -- --bandwidth-gbs 4800 [--shape qwen3-8b] [--gpu auto] [--sequences 32] [--prompt 512] [--tokens 128] [--model PATH]
 *
 * Loads a random-weight model of a real model's shape (generated under
 * resources/models/ on first use, or --model PATH), all layers offloaded when a
 * GPU is there, and measures through bench:rollout's ThroughputMeter:
 * - one sequence decoding `--tokens` tokens after a `--prompt`-token prompt;
 * - `--sequences` sequences decoding together, each over its own copy of that prompt.
 * A decode step reads every weight once, for however many sequences share the
 * step, plus each sequence's KV cache (F16, the average cached length of the
 * run). With B sequences the bound is
 *   B × bandwidth / (weight bytes + B × KV bytes per step per sequence),
 * B = 1 for the single-sequence bound. `--bandwidth-gbs` is the device's memory
 * bandwidth in GB/s (the data sheet's figure: H200 4,800, H100 SXM 3,350); without
 * it the bench prints the rates and bytes per step only. Random weights decode at
 * the speed of trained ones (same shapes and quantization).
 */
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkGgufFile } from '../src/main/llm/gguf/ggufHeader';
import { kvCacheBytesPerToken } from '../src/main/llm/gguf/kvCacheBytesPerToken';
import { getLlamaRuntime, physicalCoreCount } from '../src/main/llm/llamaRuntime';
import { resolveFlashAttention } from '../src/main/llm/resolveFlashAttention';
import { ensureBenchModel } from './rollout/ensureBenchModel';
import { syntheticPromptTokens } from './rollout/syntheticPromptTokens';
import { ThroughputMeter } from './rollout/ThroughputMeter';

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`bench:decode-bound: --${name} must be a positive integer, got ${value}`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      shape: { type: 'string', default: 'qwen3-8b' },
      model: { type: 'string' },
      gpu: { type: 'string', default: 'auto' },
      'bandwidth-gbs': { type: 'string' },
      sequences: { type: 'string' },
      prompt: { type: 'string' },
      tokens: { type: 'string' },
    },
  });
  const sequences = positiveInteger('sequences', values.sequences, 32);
  const promptTokens = positiveInteger('prompt', values.prompt, 512);
  const decodeTokens = positiveInteger('tokens', values.tokens, 128);
  const bandwidth = values['bandwidth-gbs'] === undefined ? null : Number(values['bandwidth-gbs']) * 1e9;
  if (bandwidth !== null && !(bandwidth > 0)) throw new Error(`bench:decode-bound: --bandwidth-gbs must be a positive number, got ${values['bandwidth-gbs']}`);
  const gpu = values.gpu === 'false' ? false : (values.gpu as 'auto' | 'cuda' | 'vulkan' | 'metal');
  if (!['auto', 'cuda', 'vulkan', 'metal', false].includes(gpu)) throw new Error(`bench:decode-bound: --gpu must be auto, cuda, vulkan, metal or false, got ${values.gpu}`);

  const path = values.model ?? (await ensureBenchModel(values.shape!));
  const { header, architecture } = await checkGgufFile(path);
  const kvPerToken = kvCacheBytesPerToken(header, architecture);
  if (kvPerToken === null) throw new Error(`bench:decode-bound: ${path}: the header lacks the dimensions for the KV cache size`);
  const weightBytes = (await stat(path)).size;
  const threads = physicalCoreCount();
  const llama = await getLlamaRuntime(gpu, threads);
  const model = await llama.loadModel({ modelPath: path, gpuLayers: gpu === false ? 0 : 'max' });
  const onGpu = llama.gpu !== false && model.gpuLayers > 0;
  const contextSize = Math.ceil((promptTokens + decodeTokens + 16) / 256) * 256;
  const prompt = syntheticPromptTokens(promptTokens);
  console.log(
    `bench:decode-bound: ${path} (${(weightBytes / 1e9).toFixed(2)} GB), ${onGpu ? `${llama.gpu}, ${model.gpuLayers} layers offloaded` : `CPU, ${threads} thread(s)`}; ` +
      `prompt ${promptTokens} tokens, ${decodeTokens} decoded per sequence, ${sequences} sequences batched`,
  );
  const meter = await ThroughputMeter.open(model, {
    decodePrompts: Array.from({ length: sequences }, () => prompt),
    soloIndices: [0],
    contextSize,
    batchSize: 512,
    flashAttention: resolveFlashAttention('auto', { onGpu }),
    maxThreads: threads,
  });
  try {
    const [rates] = await meter.measure({ prompt, decodeTokens, threadCounts: [threads], repeats: 3, order: ['single', 'batched', 'prompt'] });
    // Each step reads the cache up to where the sequence is; over the run that averages to the prompt plus half the decode.
    const kvPerStep = kvPerToken * (promptTokens + decodeTokens / 2);
    const bound = (batch: number) => (bandwidth === null ? null : (batch * bandwidth) / (weightBytes + batch * kvPerStep));
    const report = (label: string, rate: number, batch: number) => {
      const limit = bound(batch);
      console.log(
        `  ${label}: ${rate.toFixed(1)} tok/s; bytes per step ${((weightBytes + batch * kvPerStep) / 1e9).toFixed(3)} GB` +
          (limit === null ? '' : `; bound ${limit.toFixed(1)} tok/s; ${((100 * rate) / limit).toFixed(1)}% of it`),
      );
      return limit === null ? null : rate / limit;
    };
    console.log(`  prompt processing: ${rates.promptTokensPerSecond.toFixed(0)} tok/s`);
    const single = report('one sequence', rates.singleDecodeTokensPerSecond, 1);
    const batched = report(`${sequences} sequences`, rates.batchedDecodeTokensPerSecond, sequences);
    console.log(`batched_vs_single: ${(rates.batchedDecodeTokensPerSecond / rates.singleDecodeTokensPerSecond).toFixed(3)}`);
    if (single !== null && batched !== null) {
      console.log(`single_vs_bound: ${single.toFixed(3)}`);
      console.log(`batched_vs_bound: ${batched.toFixed(3)}`);
    }
  } finally {
    await meter.close();
    await model.dispose();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
