import type { LlamaContextSequence } from 'node-llama-cpp';

/**
 * KV-cache copy between context sequences of one context.
 *
 * node-llama-cpp 3.22.1 (pinned exactly in package.json) has no public fork of a
 * sequence, but its LlamaDecisionContext uses an internal
 * `LlamaContextSequence._copyStateFromOtherSequence(source, upToTokenIndex)`,
 * backed by the addon's `copySequenceStateFromOtherSequence` (llama_memory_seq_cp).
 * With node-llama-cpp's per-sequence KV streams (kv_unified = false) that is a
 * buffer copy of the source stream done at the next decode: measured on this
 * repository's bench model it costs far less than evaluating a few hundred
 * prompt tokens. Everything here is feature-checked; when the internals are
 * gone, callers fall back to evaluating the prompt on the target sequence.
 */
type SequenceInternals = {
  _copyStateFromOtherSequence?: (source: LlamaContextSequence, upToTokenIndex: number) => Promise<boolean>;
  _context?: { _ctx?: { copySequenceStateFromOtherSequence?: unknown } };
};

/** True when this node-llama-cpp exposes the internal sequence copy this module relies on. */
export function sequenceStateCopySupported(sequence: LlamaContextSequence): boolean {
  const internals = sequence as unknown as SequenceInternals;
  return (
    typeof internals._copyStateFromOtherSequence === 'function' &&
    typeof internals._context?._ctx?.copySequenceStateFromOtherSequence === 'function'
  );
}

/**
 * Makes `target` hold the first `length` tokens of `source` (KV cache and token
 * list). Returns false when the copy did not take (then `target` is cleared and
 * the caller evaluates instead).
 */
export async function copySequencePrefix(target: LlamaContextSequence, source: LlamaContextSequence, length: number): Promise<boolean> {
  if (target === source) return target.nextTokenIndex >= length;
  const internals = target as unknown as SequenceInternals;
  if (!sequenceStateCopySupported(target) || !internals._copyStateFromOtherSequence) return false;
  let copied = false;
  try {
    copied = await internals._copyStateFromOtherSequence.call(target, source, length);
  } catch {
    copied = false;
  }
  if (!copied || target.nextTokenIndex !== length) {
    await target.clearHistory();
    return false;
  }
  return true;
}
