import type { LlamaContext } from 'node-llama-cpp';

/**
 * Changing a context's thread count between prompt evaluation and decoding.
 *
 * On CPU the best thread count differs by phase: prompt processing gains from
 * every core, while decoding one or a few sequences collapses with more than
 * one ggml thread on a small machine (threads spin at a barrier every op).
 * node-llama-cpp 3.22.1 (pinned exactly) fixes a context's threads at creation;
 * internally it reserves `_idealThreads` from its threads splitter at each
 * batch dispatch (`_reserveThreads`) and applies the allocation with
 * `setThreads` before every llama_decode. Setting `_idealThreads` and freeing
 * the current reservation makes the next dispatch use the new count. Call only
 * while the context has nothing queued (between phases). Feature-checked:
 * without these internals the context keeps its creation thread count.
 */
type ContextInternals = {
  _idealThreads?: number;
  _freeReservedThreads?: () => void;
  _ctx?: { setThreads?: unknown };
};

export function contextThreadSwitchSupported(context: LlamaContext): boolean {
  const internals = context as unknown as ContextInternals;
  return typeof internals._idealThreads === 'number' && typeof internals._freeReservedThreads === 'function' && typeof internals._ctx?.setThreads === 'function';
}

/** Makes the context's next evaluations use `threads`; returns false when unsupported. */
export function setContextThreads(context: LlamaContext, threads: number): boolean {
  if (!contextThreadSwitchSupported(context)) return false;
  const internals = context as unknown as ContextInternals;
  if (internals._idealThreads === threads) return true;
  internals._idealThreads = threads;
  internals._freeReservedThreads!.call(context);
  return true;
}
