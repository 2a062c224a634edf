import { InsufficientMemoryError } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { StageBError, type ErrorCode } from '../../shared/errors';
import { classifyNativeError } from './classifyNativeError';

const FILE = '/models/qwen3-8b.gguf';
const WHAT = 'cannot create a context of 65536 tokens x 1 sequences';

/** llama.cpp's log when ggml could not allocate a 4 GiB KV cache under an address-space cap (observed, node-llama-cpp 3.22.1). */
const KV_ALLOCATION_LOG = [
  'ggml_aligned_malloc: insufficient memory (attempted to allocate 4096.00 MB)',
  'ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 4294967296',
  'alloc_tensor_range: failed to allocate CPU buffer of size 4294967296',
  'llama_init_from_model: failed to initialize the context: failed to allocate buffer for kv cache',
];

type Row = { name: string; error: unknown; fallback: ErrorCode; code: ErrorCode; nativeLog?: string[] };

// Messages are verbatim from node-llama-cpp 3.22.1 (dist/, llama/addon/) and the llama.cpp it bundles, unless noted.
const rows: Row[] = [
  // node-llama-cpp's memory check (gguf/insights/utils/resolveContextContextSizeOption.js, resolveModelGpuLayersOption.js)
  { name: 'InsufficientMemoryError: context too large for RAM (observed)', error: new InsufficientMemoryError('A context size of 8388608 is too large for the available RAM'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'InsufficientMemoryError: sequences too large for RAM incl. swap', error: new InsufficientMemoryError('A context size of 32768 with 8 sequences is too large for the available RAM (including swap)'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'InsufficientMemoryError: VRAM with a cap', error: new InsufficientMemoryError('A context size of 4096 is too large for the available VRAM (VRAM cap is set, consider increasing or removing the cap to allow more VRAM to be used)'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'InsufficientMemoryError: default message', error: new InsufficientMemoryError(), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'InsufficientMemoryError recognised by class, whatever it says', error: new InsufficientMemoryError('A context size of 2048 cannot be used'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'memory-check text from another module instance (plain Error)', error: new Error('A context size of 4096 with 4 sequences is too large for the available resources'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'model does not fit VRAM', error: new Error('Not enough VRAM to fit the model with the specified settings'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  // native exceptions surfaced by the addon's SetError(e.what())
  { name: 'std::bad_alloc from llama_init_from_model', error: new Error('std::bad_alloc'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'kv cache buffer (llama.cpp exception text)', error: new Error('failed to allocate buffer for kv cache'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'ggml CPU buffer', error: new Error('ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 4294967296'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'model weights buffer (llama-model.cpp)', error: new Error('unable to allocate CPU buffer'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'mmap ENOMEM (llama-mmap.cpp)', error: new Error('mmap failed: Cannot allocate memory'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'CUDA', error: new Error('CUDA error: out of memory'), fallback: 'INTERNAL', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'cudaMalloc', error: new Error('ggml_cuda_device_malloc: cudaMalloc failed'), fallback: 'INTERNAL', code: 'MODEL_OUT_OF_MEMORY' },
  { name: 'V8 wasm reservation under RLIMIT_AS (observed)', error: new RangeError('WebAssembly.instantiate(): Out of memory: Cannot allocate Wasm memory for new instance'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY' },
  // generic JavaScript error, reason only in llama.cpp's log (observed under prlimit --as)
  { name: '"Failed to create context" + ggml allocation log (observed)', error: new Error('Failed to create context'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY', nativeLog: KV_ALLOCATION_LOG },
  { name: '"Failed to load model" + weights allocation log', error: new Error('Failed to load model'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_OUT_OF_MEMORY', nativeLog: ['llama_model_load: error loading model: unable to allocate CPU buffer', 'llama_model_load_from_file_impl: failed to load model'] },
  { name: '"Eval has failed" + compute buffer log', error: new Error('Eval has failed'), fallback: 'INTERNAL', code: 'MODEL_OUT_OF_MEMORY', nativeLog: ['ggml_gallocr_reserve_n: failed to allocate CPU buffer of size 2147483648', 'decode: failed to allocate compute buffers'] },
  // context overflow
  { name: 'addon: no KV slot', error: new Error('could not find a KV slot for the batch (try reducing the size of the batch or increase the context)'), fallback: 'INTERNAL', code: 'MODEL_CONTEXT_OVERFLOW' },
  { name: 'context shift failed', error: new Error('Failed to free up space for new tokens'), fallback: 'INTERNAL', code: 'MODEL_CONTEXT_OVERFLOW' },
  { name: 'context too small to generate', error: new Error('The context size is too small to generate a response'), fallback: 'INTERNAL', code: 'MODEL_CONTEXT_OVERFLOW' },
  { name: 'input longer than the usable context', error: new Error('Input is longer than the usable context size. Try to increase the context size or use another model that supports longer contexts.'), fallback: 'INTERNAL', code: 'MODEL_CONTEXT_OVERFLOW' },
  { name: 'input exceeds the context', error: new Error('The input length exceed the context size. Try to increase the context size to at least 5000 or use another model that supports longer contexts.'), fallback: 'INTERNAL', code: 'MODEL_CONTEXT_OVERFLOW' },
  { name: 'state file too large', error: new Error('The given state file is too large for the current context size'), fallback: 'INTERNAL', code: 'MODEL_CONTEXT_OVERFLOW' },
  { name: 'the message decides before the log', error: new Error('could not find a KV slot for the batch (try reducing the size of the batch or increase the context)'), fallback: 'INTERNAL', code: 'MODEL_CONTEXT_OVERFLOW', nativeLog: KV_ALLOCATION_LOG },
  // negatives: stay at the fallback
  { name: '"Failed to create context" without a log', error: new Error('Failed to create context'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_LOAD_FAILED' },
  { name: '"Failed to create context" with an unrelated native error', error: new Error('Failed to create context'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_LOAD_FAILED', nativeLog: ['llama_init_from_model: failed to initialize the context: n_seq_max must be <= 256'] },
  { name: '"Failed to load model"', error: new Error('Failed to load model'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_LOAD_FAILED', nativeLog: ["llama_model_load: error loading model: error loading model architecture: unknown model architecture: 'foo'"] },
  { name: '"Eval has failed"', error: new Error('Eval has failed'), fallback: 'INTERNAL', code: 'INTERNAL' },
  { name: 'sampler failure', error: new Error('Failed to sample next token'), fallback: 'INTERNAL', code: 'INTERNAL' },
  { name: 'a thrown string', error: 'boom', fallback: 'INTERNAL', code: 'INTERNAL' },
  { name: 'disk full is not a context overflow', error: new Error('ENOSPC: no space left on device, write'), fallback: 'MODEL_LOAD_FAILED', code: 'MODEL_LOAD_FAILED' },
  { name: 'a cancelled load keeps its fallback', error: new Error('The operation was aborted'), fallback: 'CANCELLED', code: 'CANCELLED' },
];

describe('classifyNativeError', () => {
  it.each(rows)('$name → $code', ({ error, fallback, code, nativeLog }) => {
    const result = classifyNativeError(error, fallback, FILE, WHAT, nativeLog);
    expect(result).toBeInstanceOf(StageBError);
    expect(result.code).toBe(code);
    expect(result.location).toEqual({ file: FILE });
    const original = error instanceof Error ? error.message : String(error);
    expect(result.message.startsWith(`${WHAT}: ${original}`)).toBe(true);
    expect(result.format().startsWith(`${code} ${FILE}: ${WHAT}: `)).toBe(true);
    if (code === 'MODEL_OUT_OF_MEMORY') expect(result.message).toMatch(/not enough memory: lower model\.context_size or model\.sequences, or use a smaller model$/);
    else expect(result.message).not.toMatch(/not enough memory/);
  });

  it('explains a generic native failure with the allocation lines of the log, not the unrelated ones', () => {
    const log = ['llama_context: n_ctx_seq (65536) > n_ctx_train (8192) -- possible training context overflow', ...KV_ALLOCATION_LOG];
    const result = classifyNativeError(new Error('Failed to create context'), 'MODEL_LOAD_FAILED', FILE, WHAT, log);
    expect(result.code).toBe('MODEL_OUT_OF_MEMORY');
    expect(result.message).toContain('Failed to create context (llama.cpp: ggml_aligned_malloc: insufficient memory (attempted to allocate 4096.00 MB); ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 4294967296; ');
    expect(result.message).not.toContain('n_ctx_train');
    expect(result.details).toEqual({ nativeLog: KV_ALLOCATION_LOG.slice(0, 3) });
  });

  it('leaves the message alone when the error itself says what happened', () => {
    const result = classifyNativeError(new InsufficientMemoryError('A context size of 8388608 is too large for the available RAM'), 'MODEL_LOAD_FAILED', FILE, WHAT, KV_ALLOCATION_LOG);
    expect(result.message).toBe(`${WHAT}: A context size of 8388608 is too large for the available RAM — not enough memory: lower model.context_size or model.sequences, or use a smaller model`);
    expect(result.details).toBeUndefined();
  });

  it('passes a StageBError through unchanged', () => {
    const typed = new StageBError('CANCELLED', 'model load cancelled', { file: '/elsewhere.gguf' });
    expect(classifyNativeError(typed, 'MODEL_LOAD_FAILED', FILE, WHAT, KV_ALLOCATION_LOG)).toBe(typed);
  });

  it('names the model file it was given in the location', () => {
    for (const file of ['/a/b/c.gguf', 'relative/model.gguf']) {
      const result = classifyNativeError(new Error('Failed to create context'), 'MODEL_LOAD_FAILED', file, WHAT);
      expect(result.location.file).toBe(file);
      expect(result.format()).toBe(`MODEL_LOAD_FAILED ${file}: ${WHAT}: Failed to create context`);
    }
  });
});
