import { z } from 'zod';
import { defineBackendConfig } from './BackendConfig';
import { RUN_FILES } from '../../runFiles';

/** The embedded backend: node-llama-cpp loads a GGUF file into the engine process. */
export const LlamaCppModelSchema = z
  .object({
    backend: z.literal('llama-cpp').describe('Embedded node-llama-cpp backend.'),
    path: z.string().min(1).describe('Path to a GGUF file. Relative paths resolve against the config file.'),
    context_size: z.number().int().positive().default(4096).describe('Context length in tokens per sequence: each sequence gets its own KV cells, so memory grows with context_size x sequences.'),
    gpu_layers: z.union([z.literal('auto'), z.literal('max'), z.number().int().nonnegative()]).default('auto').describe("Layers to offload to the GPU: 'auto', 'max' or a number (0 = CPU only)."),
    gpu: z.union([z.literal('auto'), z.literal(false), z.enum(['cuda', 'vulkan', 'metal'])]).default('auto').describe("GPU backend for llama.cpp: 'auto' detects, false forces CPU."),
    threads: z.number().int().nonnegative().default(0).describe('CPU threads for prompt evaluation, and for decoding unless `decode_threads` is set; 0 means the number of physical cores (never more, which oversubscribes), or half of them with `overlap_prompts`.'),
    decode_threads: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe('CPU threads while candidates decode; 0 means the same as `threads`, which then covers prompt evaluation only (with `overlap_prompts`: the cores that prompts leave). On small CPUs decoding often runs best on fewer threads than prompt evaluation.'),
    batch_size: z.number().int().positive().default(512).describe('Prompt-processing batch size in tokens.'),
    sequences: z.number().int().positive().default(8).describe('Parallel context sequences (groups decoded at once).'),
    batch_decode: z
      .union([z.literal('auto'), z.boolean()])
      .default('auto')
      .describe(
        `Decode the candidates in flight together, in one batch per step. 'auto' (default) checks at load whether sharing a decode step changes a sequence's logits on this model and machine (it does for F32 weights on the CPU, where llama.cpp runs one-token and several-token steps through different matmul kernels): batched when it does not; when it does, one candidate at a time on the CPU (exact) and batched on a GPU (throughput); ${RUN_FILES.manifest} records the outcome under model.decode_batching. true always batches, false always decodes one candidate at a time (bit-identical to the sequential path).`,
      ),
    flash_attention: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe(
        "llama.cpp flash attention. 'auto' is off on the CPU, where llama.cpp's flash-attention kernel sums a one-sequence decode step in a different order from a batched one, so batched decoding would not be bit-identical to the sequential path; on a GPU 'auto' lets llama.cpp choose. 'on' is faster on the CPU (about 15% on bench-27m) but makes batched text differ from the sequential path and from run to run.",
      ),
    overlap_prompts: z
      .boolean()
      .default(false)
      .describe(
        'Evaluate prompts in a second context on their own threads while candidates decode (for CPUs, where one decode step cannot use every core). Prompts run on `threads` and decoding on `decode_threads` at the same time; with both 0 the physical cores are split between them. Needs twice the KV-cache memory. Decode batches then depend on timing, which leaves the text bit-identical to the sequential path wherever `batch_decode` resolved to exact.',
      ),
  })
  .strict();

export type LlamaCppModelConfig = z.infer<typeof LlamaCppModelSchema>;

export const llamaCppBackendConfig = defineBackendConfig({
  name: 'llama-cpp',
  schema: LlamaCppModelSchema,
  paths: ['path'],
  modelFile: (config) => config.path,
  loadMessage: (config) => `loading ${config.path}`,
  runsOn: 'llama.cpp in process',
});
