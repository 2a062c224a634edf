import { InsufficientMemoryError } from 'node-llama-cpp';
import { StageBError, type ErrorCode } from '../../shared/errors';

/**
 * Messages that mean the allocator said no. Sources: node-llama-cpp's memory
 * check (InsufficientMemoryError: "A context size of N is too large for the
 * available RAM", "Not enough VRAM to fit the model ..."), ggml/llama.cpp logs
 * ("ggml_aligned_malloc: insufficient memory", "ggml_backend_cpu_buffer_type_alloc_buffer:
 * failed to allocate buffer of size N", "failed to allocate buffer for kv cache"),
 * C++ std::bad_alloc, ENOMEM's strerror, CUDA and V8.
 */
const OUT_OF_MEMORY =
  /out of memory|insufficient memory|not enough (v)?ram|too large for the available (v?ram|resources)|failed to allocate|unable to allocate|cannot allocate memory|bad_alloc|enomem|vram|cudamalloc|alloc.*fail/;

/**
 * Messages that mean the tokens do not fit the context: node-llama-cpp's
 * "The context size is too small ...", "Failed to free up space for new tokens",
 * "Input is longer than the usable context size", and the addon's
 * "could not find a KV slot for the batch".
 */
const CONTEXT_OVERFLOW =
  /context size is too small|context.*(overflow|full|exceed)|exceeds? the context|longer than the usable context|too large for the current context|free up space for new tokens|kv slot|no space(?! left on device)|kv cache/;

/**
 * llama.cpp reports why a context or model could not be created only in its log;
 * the JavaScript error says "Failed to create context" / "Failed to load model".
 * Lines of the native log captured around the failing call (see NativeErrorLog)
 * let those generic errors be classified and explained.
 */
const MAX_NATIVE_LINES = 3;

/** Maps native / node-llama-cpp failures onto the typed codes people see. */
export function classifyNativeError(error: unknown, fallback: ErrorCode, file: string, what: string, nativeLog: readonly string[] = []): StageBError {
  if (error instanceof StageBError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const lower = message.toLowerCase();
  const nativeOutOfMemory = nativeLog.filter((line) => OUT_OF_MEMORY.test(line.toLowerCase()));
  let code = fallback;
  let explanation: readonly string[] = [];
  if (error instanceof InsufficientMemoryError || OUT_OF_MEMORY.test(lower)) code = 'MODEL_OUT_OF_MEMORY';
  else if (CONTEXT_OVERFLOW.test(lower)) code = 'MODEL_CONTEXT_OVERFLOW';
  else if (nativeOutOfMemory.length > 0) {
    code = 'MODEL_OUT_OF_MEMORY';
    explanation = nativeOutOfMemory;
  }
  const native = [...new Set(explanation.map((line) => line.trim()))].slice(0, MAX_NATIVE_LINES);
  const because = native.length > 0 ? ` (llama.cpp: ${native.join('; ')})` : '';
  const hint = code === 'MODEL_OUT_OF_MEMORY' ? ' — not enough memory: lower model.context_size or model.sequences, or use a smaller model' : '';
  return new StageBError(code, `${what}: ${message}${because}${hint}`, { file }, native.length > 0 ? { nativeLog: native } : undefined);
}
