import type { LlamaContext, LlamaContextSequence, Token } from 'node-llama-cpp';
import { StageBError } from '../../../shared/errors';
import { copySequencePrefix, sequenceStateCopySupported } from './sequenceStateCopy';
import { FifoLock } from './FifoLock';
import { setContextThreads } from './contextThreads';

/**
 * How a backend turns requests into sequence work.
 * - `shared`: every prompt token that some sequence already holds is copied, not
 *   re-evaluated (the batch's shared prefix once, each group's prompt once for
 *   its K candidates), and all candidates in flight decode together.
 * - `naive`: the reference path: one candidate at a time, a fresh sequence state
 *   per candidate, the whole prompt evaluated each time.
 */
export type RolloutMode = 'shared' | 'naive';

export type PoolSlot = { sequence: LlamaContextSequence };

export type SchedulerOptions = {
  mode: RolloutMode;
  /** Use the KV-cache copy between sequences when node-llama-cpp exposes it (default true). */
  copyState?: boolean;
  /** Copy only when it saves at least this many prompt tokens (a copy moves a whole KV stream). */
  minCopyTokens?: number;
  /**
   * Keep prompt evaluation and decoding in separate llama_decode calls (default
   * true). Mixed into one large batch, a decode token's logits were measured
   * to differ in the last bits from the same token decoded alone, which
   * occasionally flips a sampled token. Separated, shared decoding gives the
   * naive path's text for the same seed.
   */
  separatePhases?: boolean;
  /**
   * Decode all candidates in flight together (default true). false runs one
   * candidate's decode at a time, in request order, so every step carries one
   * token row as on the naive path and the text is the naive path's. Batched,
   * the text is the naive path's only where llama.cpp's kernels give a row the
   * same logits whatever else shares its step: the backend measures that at
   * load (checkBatchedDecode; F32 weights on the CPU fail it, Q8_0 and F16
   * pass here) and, with CPU flash attention, knows it fails over long caches.
   */
  batchDecode?: boolean;
  /**
   * Threads for prompt evaluation and for decoding (default: the context's).
   * Switched at phase boundaries only, so only with `separatePhases`.
   */
  promptThreads?: number;
  decodeThreads?: number;
};

type Waiter = { count: number; tokens: readonly Token[]; resolve: (slots: PoolSlot[]) => void; reject: (error: unknown) => void };

export function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Hands out context sequences and prepares them so that each holds a prompt
 * minus its last token. The last token is always evaluated by generateOnSequence
 * itself, alone in its decode step, on every path: llama.cpp's CPU kernels give
 * slightly different logits for a token evaluated inside a large prompt batch
 * than for the same token evaluated alone, so fixing where the last token is
 * evaluated is what makes shared and naive decoding give the same text for the
 * same seed (measured on the tiny model; see docs/performance.md).
 *
 * Preparation runs one request at a time (a FIFO lock): a prompt being
 * evaluated becomes a copy source for the next request at once, and evaluating
 * group prompts one at a time was measured faster than interleaving them.
 * Decoding is not under the lock: node-llama-cpp folds every sequence's pending
 * token into one llama_decode per step, so all candidates in flight decode as
 * one batch.
 */
export class SharedPrefixScheduler {
  readonly slots: PoolSlot[];
  readonly copyState: boolean;
  private readonly idle: PoolSlot[];
  private readonly waiters: Waiter[] = [];
  private readonly minCopyTokens: number;
  private readonly prepareLock = new FifoLock();
  private readonly separatePhases: boolean;
  private activeDecodes = 0;
  private pendingPrepares = 0;
  private phaseWaiters: Array<() => void> = [];
  private readonly batchDecode: boolean;
  private readonly decodeLock = new FifoLock();

  constructor(
    private readonly context: LlamaContext,
    readonly options: SchedulerOptions,
  ) {
    this.slots = [];
    for (let i = 0; i < context.totalSequences; i++) {
      this.slots.push({ sequence: context.getSequence() });
    }
    this.idle = [...this.slots];
    this.copyState = (options.copyState ?? true) && this.slots.length > 0 && sequenceStateCopySupported(this.slots[0].sequence);
    this.minCopyTokens = options.minCopyTokens ?? 32;
    this.separatePhases = options.separatePhases ?? true;
    this.batchDecode = options.batchDecode ?? true;
  }

  private async waitFor(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.phaseWaiters.push(resolve));
  }

  private wakePhaseWaiters(): void {
    for (const wake of this.phaseWaiters.splice(0)) wake();
  }

  /**
   * Prepares `slots` (see `prepare`) one request at a time; with separate phases,
   * only while no candidate is decoding.
   */
  async prepareExclusive(slots: readonly PoolSlot[], tokens: readonly Token[], boundaries: readonly number[], fresh = false): Promise<number> {
    this.pendingPrepares++;
    try {
      return await this.exclusive(async () => {
        if (this.separatePhases) {
          await this.waitFor(() => this.activeDecodes === 0);
          this.usePromptThreads();
        }
        return this.prepare(slots, tokens, boundaries, fresh);
      });
    } finally {
      this.pendingPrepares--;
      this.wakePhaseWaiters();
    }
  }

  /**
   * Runs a decode; with separate phases it starts once no prompt is queued for
   * evaluation. Without batched decoding, decodes run one at a time in call order.
   */
  async decode<T>(task: () => Promise<T>): Promise<T> {
    if (this.separatePhases) await this.waitFor(() => this.pendingPrepares === 0);
    if (this.separatePhases && this.activeDecodes === 0) this.useDecodeThreads();
    // Counted before queuing on the decode lock, so no preparation slips in between one-at-a-time decodes.
    this.activeDecodes++;
    try {
      return await (this.batchDecode ? task() : this.decodeLock.run(task));
    } finally {
      this.activeDecodes--;
      this.wakePhaseWaiters();
    }
  }

  /** Switches the context to the prompt-evaluation thread count (call with nothing decoding). */
  usePromptThreads(): void {
    if (this.options.promptThreads) setContextThreads(this.context, this.options.promptThreads);
  }

  /** Switches the context to the decoding thread count (call with no prompt being evaluated). */
  useDecodeThreads(): void {
    if (this.options.decodeThreads) setContextThreads(this.context, this.options.decodeThreads);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs `task` alone among exclusive tasks, in call order. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.prepareLock.run(task);
  }

  /** Waits for `count` idle sequences, preferring those already holding the longest prefix of `tokens`. */
  acquire(count: number, tokens: readonly Token[], signal: AbortSignal): Promise<PoolSlot[]> {
    const wanted = Math.max(1, Math.min(count, this.slots.length));
    if (this.waiters.length === 0 && this.idle.length >= wanted) return Promise.resolve(this.takeIdle(wanted, tokens));
    return new Promise<PoolSlot[]>((resolve, reject) => {
      const waiter: Waiter = { count: wanted, tokens, resolve, reject };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new StageBError('CANCELLED', 'generation cancelled while queued'));
        this.grant();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.resolve = (slots) => {
        signal.removeEventListener('abort', onAbort);
        resolve(slots);
      };
      this.waiters.push(waiter);
    });
  }

  release(slots: readonly PoolSlot[]): void {
    this.idle.push(...slots);
    this.grant();
  }

  /** Rejects every queued request (backend closing). */
  rejectWaiters(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  get idleSlots(): readonly PoolSlot[] {
    return this.idle;
  }

  private grant(): void {
    while (this.waiters.length > 0 && this.idle.length >= this.waiters[0].count) {
      const waiter = this.waiters.shift()!;
      waiter.resolve(this.takeIdle(waiter.count, waiter.tokens));
    }
  }

  private takeIdle(count: number, tokens: readonly Token[]): PoolSlot[] {
    const taken: PoolSlot[] = [];
    for (let k = 0; k < count; k++) {
      let best = 0;
      let bestLength = -1;
      for (let i = 0; i < this.idle.length; i++) {
        const length = commonPrefixLength(this.idle[i].sequence.contextTokens, tokens);
        if (length > bestLength) {
          bestLength = length;
          best = i;
        }
      }
      taken.push(this.idle.splice(best, 1)[0]);
    }
    return taken;
  }

  /**
   * Makes every slot hold `tokens` minus the last token. Returns the prompt
   * tokens evaluated to get there (copies cost none). Call inside `exclusive`.
   * `fresh` drops whatever the slots held first (the naive path).
   *
   * `boundaries` are the token positions where prompt parts end (system +
   * shared prefix, group part, ...). Tokens are always evaluated in chunks
   * that start and end on these boundaries, and a held or copied prefix is
   * only reused up to a boundary: llama.cpp's CPU kernels give a token's KV
   * values that depend in the last bits on which chunk evaluated it, so a
   * fixed chunking is what keeps the shared path's text equal to the naive path's.
   */
  async prepare(slots: readonly PoolSlot[], tokens: readonly Token[], boundaries: readonly number[], fresh = false): Promise<number> {
    const target = Math.max(0, tokens.length - 1);
    const cuts = [...new Set([0, ...boundaries.filter((b) => b > 0 && b < target), target])].sort((a, b) => a - b);
    const usable = (length: number) => {
      let best = 0;
      for (const cut of cuts) if (cut <= length) best = cut;
      return best;
    };
    let evaluated = 0;
    if (fresh) {
      for (const slot of slots) {
        await slot.sequence.clearHistory();
        evaluated += await this.evaluateRest(slot.sequence, tokens, cuts, 0);
      }
      return evaluated;
    }
    // The leader is the slot closest to the prompt; it takes the best prefix any sequence holds.
    const held = (sequence: LlamaContextSequence) => usable(Math.min(target, commonPrefixLength(sequence.contextTokens, tokens)));
    let leader = slots[0];
    for (const slot of slots) if (held(slot.sequence) > held(leader.sequence)) leader = slot;
    if (this.copyState) {
      let source: LlamaContextSequence | null = null;
      let sourceLength = held(leader.sequence);
      for (const slot of this.slots) {
        const length = held(slot.sequence);
        if (length > sourceLength) {
          source = slot.sequence;
          sourceLength = length;
        }
      }
      if (source && sourceLength - held(leader.sequence) >= this.minCopyTokens) await copySequencePrefix(leader.sequence, source, sourceLength);
    }
    evaluated += await this.evaluateRest(leader.sequence, tokens, cuts, held(leader.sequence));
    for (const slot of slots) {
      if (slot === leader) continue;
      const own = held(slot.sequence);
      if (own < target && this.copyState && target - own >= this.minCopyTokens && (await copySequencePrefix(slot.sequence, leader.sequence, target))) continue;
      evaluated += await this.evaluateRest(slot.sequence, tokens, cuts, held(slot.sequence));
    }
    return evaluated;
  }

  /** Trims `sequence` to `keep` tokens (a cut it holds) and evaluates chunk by chunk up to the last cut. */
  private async evaluateRest(sequence: LlamaContextSequence, tokens: readonly Token[], cuts: readonly number[], keep: number): Promise<number> {
    if (sequence.nextTokenIndex > keep) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    // Counted here rather than read from node-llama-cpp's per-sequence meter, which misattributes tokens when several sequences share a decode.
    let evaluated = 0;
    for (let i = 1; i < cuts.length; i++) {
      if (cuts[i] <= keep) continue;
      const chunk = tokens.slice(Math.max(keep, cuts[i - 1]), cuts[i]) as Token[];
      await sequence.evaluateWithoutGeneratingNewTokens(chunk);
      evaluated += chunk.length;
    }
    return evaluated;
  }
}
