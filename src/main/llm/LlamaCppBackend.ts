import { totalmem } from 'node:os';
import { basename, resolve } from 'node:path';
import {
  ChatMLChatWrapper,
  JinjaTemplateChatWrapper,
  resolveChatWrapper,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
  type TokenMeterState,
} from 'node-llama-cpp';
import { StageBError } from '../../shared/errors';
import { classifyNativeError } from './classifyNativeError';
import { NativeErrorLog } from './NativeErrorLog';
import { llamaCppBackendConfig, type LlamaCppModelConfig } from '../../shared/schemas/backends/llamaCppModel';
import type { DecodeParams } from '../../shared/schemas/decode';
import { checkGgufFile, ggufMetadataValue } from './gguf/ggufHeader';
import { kvCacheBytesPerToken } from './gguf/kvCacheBytesPerToken';
import { describeLlamaRuntime, getLlamaRuntime, physicalCoreCount } from './llamaRuntime';
import { resolvePhaseThreads } from './resolvePhaseThreads';
import { resolveFlashAttention, type FlashAttentionChoice } from './resolveFlashAttention';
import { batchDecodeNeedsCheck, resolveBatchDecode, type DecodeSite } from './resolveBatchDecode';
import { BATCHED_DECODE_PROBE_CONTEXT_TOKENS, checkBatchedDecode, type BatchedDecodeCheck } from './llama/checkBatchedDecode';
import { setContextThreads } from './llama/contextThreads';
import type { DecodeBatching } from '../../shared/schemas/telemetry';
import { PromptStager } from './llama/PromptStager';
import { generateOnSequence, reusablePromptPrefix, type SequenceGeneration } from './llama/generateOnSequence';
import { PromptPrefixMeter } from './promptPrefixMeter';
import { commonPrefixLength, SharedPrefixScheduler, type PoolSlot, type RolloutMode, type SchedulerOptions } from './llama/SharedPrefixScheduler';
import type {
  BackendInfo,
  Completion,
  FinishReason,
  GenerateRequest,
  LlamaRuntimeInfo,
  LlmBackend,
  OutputConstraint,
  PromptSegments,
  TokenMeterSnapshot,
} from './LlmBackend';

export type LlamaCppBackendOptions = {
  signal?: AbortSignal;
  /** 'shared' (default): prefix sharing + batched decode; 'naive': the sequential reference path (bench, tests). */
  rollout?: RolloutMode;
  /** Copy KV state between sequences when node-llama-cpp allows it (default true); false = public API only. */
  copyState?: boolean;
  /** Keep prompt evaluation and decoding in separate decode calls so outputs equal the naive path's (default true). */
  separatePhases?: boolean;
};

type SequenceSlot = PoolSlot;

function isAbortError(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  return error instanceof Error && (error.name === 'AbortError' || /abort/i.test(error.message));
}

/** Picks the chat wrapper that renders the GGUF's own jinja template verbatim; falls back to name-based resolution. */
function createChatWrapper(model: LlamaModel, template: unknown): ChatWrapper {
  if (typeof template === 'string' && template.trim() !== '') {
    try {
      return new JinjaTemplateChatWrapper({ template, tokenizer: model.tokenizer, convertUnsupportedSystemMessagesToUserMessages: 'auto' });
    } catch {
      // An unsupported template falls through to node-llama-cpp's built-in resolution.
    }
  }
  return resolveChatWrapper(model) ?? new ChatMLChatWrapper();
}

export class LlamaCppBackend implements LlmBackend {
  readonly info: BackendInfo;
  private readonly scheduler: SharedPrefixScheduler;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private readonly prefixMeter = new PromptPrefixMeter();
  private readonly meter = { promptEvaluated: 0, promptTotal: 0, generated: 0 };
  private readonly closing = new AbortController();
  private closed = false;

  constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chatWrapper: ChatWrapper,
    readonly modelPath: string,
    modelName: string,
    readonly threads: number,
    private readonly externalSignal: AbortSignal | undefined,
    readonly rollout: RolloutMode,
    scheduling: Omit<SchedulerOptions, 'mode'>,
    /** With model.overlap_prompts: prompts are evaluated in a second context while candidates decode in this one. */
    private readonly stager: PromptStager | null,
    /** model.batch_decode as resolved for this model; `scheduling.batchDecode` follows it. */
    readonly decodeBatching: DecodeBatching,
    runtime: LlamaRuntimeInfo,
  ) {
    this.scheduler = new SharedPrefixScheduler(context, { ...scheduling, mode: rollout });
    this.info = { backend: llamaCppBackendConfig.name, modelName, modelPath, contextSize: context.contextSize, gpu: llama.gpu, decodeBatching, runtime };
  }

  /** Where staged prompt states pass through (model.overlap_prompts), or null without staging. */
  get promptStateDirectory(): string | null {
    return this.stager?.stateDirectory ?? null;
  }

  /** The flash-attention choice the contexts were created with (model.flash_attention resolved for CPU or GPU). */
  get flashAttention(): FlashAttentionChoice {
    return this.context.flashAttention;
  }

  /** Whether prompts are copied between sequences (node-llama-cpp internals present and enabled). */
  get copiesSequenceState(): boolean {
    return this.scheduler.copyState;
  }

  /** Chat template applied to [system, user], ending with the assistant turn opened. */
  renderPromptTokens(prompt: PromptSegments): Token[] {
    const state = this.chatWrapper.generateContextState({
      chatHistory: [
        { type: 'system', text: prompt.system },
        { type: 'user', text: prompt.userParts.join('') },
        { type: 'model', response: [] },
      ],
    });
    return state.contextText.tokenize(this.model.tokenizer);
  }

  /** The rendered prompt as text with special tokens spelled out (for logs, exports and tests). */
  renderPromptText(prompt: PromptSegments): string {
    return this.model.detokenize(this.renderPromptTokens(prompt), true);
  }

  async countPromptTokens(prompt: PromptSegments): Promise<number> {
    return this.renderPromptTokens(prompt).length;
  }

  async countTextTokens(text: string): Promise<number> {
    return this.model.tokenize(text, false).length;
  }

  tokenMeter(): TokenMeterSnapshot {
    return { ...this.meter, promptUnique: this.prefixMeter.unique };
  }

  async generate(request: GenerateRequest, signal?: AbortSignal): Promise<Completion[]> {
    if (this.closed) throw new StageBError('CANCELLED', 'backend is closed', { file: this.modelPath });
    const signals = [this.closing.signal, signal, this.externalSignal].filter((s): s is AbortSignal => s !== undefined);
    const combined = AbortSignal.any(signals);
    const tokens = this.renderPromptTokens(request.prompt);
    const boundaries = this.partBoundaries(request.prompt, tokens);
    const maxNew = Math.max(0, ...request.candidates.map((c) => c.max_new_tokens));
    const budget = this.context.contextSize;
    if (tokens.length + maxNew > budget) {
      throw new StageBError(
        'PROMPT_OVER_BUDGET',
        `prompt of ${tokens.length} tokens + max_new_tokens ${maxNew} exceeds the context size ${budget}; the prompt is not truncated`,
        { file: this.modelPath, field: 'prompt' },
        { promptTokens: tokens.length, maxNewTokens: maxNew, contextSize: budget },
      );
    }
    // Queue first so concurrent requests get sequences in arrival order; grammar compilation overlaps the wait.
    const pendingGrammar = this.grammarFor(request.constraint);
    pendingGrammar?.catch(() => undefined);
    if (combined.aborted) throw new StageBError('CANCELLED', 'generation cancelled', { file: this.modelPath });
    const grammar = await pendingGrammar;
    this.prefixMeter.add(tokens);
    return this.rollout === 'naive'
      ? this.generateNaive(tokens, boundaries, request, grammar, combined)
      : this.generateShared(tokens, boundaries, request, grammar, combined);
  }

  /** Token positions where the prompt's parts end (the chat template applied to ever longer part lists). */
  private partBoundaries(prompt: PromptSegments, tokens: readonly Token[]): number[] {
    const boundaries: number[] = [];
    for (let i = 1; i < prompt.userParts.length; i++) {
      const partial = this.renderPromptTokens({ system: prompt.system, userParts: prompt.userParts.slice(0, i) });
      boundaries.push(commonPrefixLength(partial, tokens));
    }
    return boundaries;
  }

  /** The reference path: one candidate at a time, fresh sequence state, whole prompt evaluated. */
  private async generateNaive(tokens: Token[], boundaries: number[], request: GenerateRequest, grammar: LlamaGrammar | undefined, signal: AbortSignal): Promise<Completion[]> {
    const [slot] = await this.acquireSlots(1, tokens, signal);
    try {
      return await this.scheduler.exclusive(async () => {
        const completions: Completion[] = [];
        for (const candidate of request.candidates) {
          this.scheduler.usePromptThreads();
          // Read-modify-write only after the await: `meter.x += await ...` would add to a value read before other requests' updates.
          const evaluated = await this.prepare([slot], tokens, boundaries, true, false);
          this.meter.promptEvaluated += evaluated;
          this.scheduler.useDecodeThreads();
          completions.push(await this.generateOne(slot, tokens, candidate, grammar, request.stop, signal));
        }
        return completions;
      });
    } finally {
      this.scheduler.release([slot]);
    }
  }

  /**
   * Candidates of a request are prepared together (the prompt evaluated once,
   * copied to the others) and then decoded in parallel; more candidates than
   * sequences run in waves.
   */
  private async generateShared(tokens: Token[], boundaries: number[], request: GenerateRequest, grammar: LlamaGrammar | undefined, signal: AbortSignal): Promise<Completion[]> {
    const completions: Completion[] = [];
    const wave = Math.max(1, Math.min(request.candidates.length, this.scheduler.size));
    for (let start = 0; start < request.candidates.length; start += wave) {
      const candidates = request.candidates.slice(start, start + wave);
      const slots = await this.acquireSlots(candidates.length, tokens, signal);
      try {
        const staged = this.stager ? await this.stage(slots[0], tokens, boundaries, signal) : 0;
        const evaluated = staged + (await this.prepare(slots, tokens, boundaries, false, true));
        this.meter.promptEvaluated += evaluated;
        // allSettled: a sequence goes back to the pool only once its own decode has ended.
        const settled = await Promise.allSettled(
          candidates.map((candidate, i) => this.scheduler.decode(() => this.generateOne(slots[i], tokens, candidate, grammar, request.stop, signal))),
        );
        const failed = settled.find((result) => result.status === 'rejected');
        if (failed) throw failed.reason;
        completions.push(...settled.map((result) => (result as PromiseFulfilledResult<Completion>).value));
      } finally {
        this.scheduler.release(slots);
      }
    }
    return completions;
  }

  private async acquireSlots(count: number, tokens: Token[], signal: AbortSignal): Promise<SequenceSlot[]> {
    try {
      return await this.scheduler.acquire(count, tokens, signal);
    } catch (error) {
      throw error instanceof StageBError ? new StageBError(error.code, error.message, { file: this.modelPath }) : error;
    }
  }

  /**
   * Loads the prompt (minus its last token) into `target` from the staging context, unless a
   * sequence of this context already holds it (then prepare() copies it).
   */
  private async stage(target: SequenceSlot, tokens: Token[], boundaries: number[], signal: AbortSignal): Promise<number> {
    const stager = this.stager!;
    const want = tokens.length - 1;
    if (this.scheduler.slots.some((slot) => commonPrefixLength(slot.sequence.contextTokens, tokens) >= want)) return 0;
    try {
      return await stager.stage(target.sequence, tokens, boundaries, signal);
    } catch (error) {
      await target.sequence.clearHistory().catch(() => undefined);
      if (isAbortError(error, signal)) throw new StageBError('CANCELLED', 'generation cancelled', { file: this.modelPath });
      throw error instanceof StageBError ? error : classifyNativeError(error, 'INTERNAL', this.modelPath, 'prompt staging failed');
    }
  }

  private async prepare(slots: readonly SequenceSlot[], tokens: Token[], boundaries: number[], fresh: boolean, queued: boolean): Promise<number> {
    try {
      return await (queued ? this.scheduler.prepareExclusive(slots, tokens, boundaries, fresh) : this.scheduler.prepare(slots, tokens, boundaries, fresh));
    } catch (error) {
      for (const slot of slots) await slot.sequence.clearHistory().catch(() => undefined);
      throw classifyNativeError(error, 'INTERNAL', this.modelPath, 'prompt evaluation failed');
    }
  }

  private async generateOne(
    slot: SequenceSlot,
    tokens: Token[],
    params: DecodeParams,
    grammar: LlamaGrammar | undefined,
    stop: string[] | undefined,
    signal: AbortSignal,
  ): Promise<Completion> {
    const before = slot.sequence.tokenMeter.getState();
    // The generation evaluates whatever of the prompt the sequence does not hold (normally its last token).
    const held = reusablePromptPrefix(slot.sequence.contextTokens, tokens);
    this.meter.promptTotal += tokens.length;
    let result: SequenceGeneration;
    try {
      result = await generateOnSequence(slot.sequence, tokens, {
        maxTokens: params.max_new_tokens,
        temperature: params.temperature,
        topP: params.top_p,
        seed: params.seed,
        grammar,
        stop,
        signal,
      });
    } catch (error) {
      this.recordUsage(slot, before, tokens.length - held);
      if (isAbortError(error, signal)) throw new StageBError('CANCELLED', 'generation cancelled', { file: this.modelPath });
      // The sequence state is unknown after a native failure; start it clean next time.
      await slot.sequence.clearHistory().catch(() => undefined);
      throw classifyNativeError(error, 'INTERNAL', this.modelPath, 'generation failed');
    }
    const used = this.recordUsage(slot, before, tokens.length - held);
    const conditioned = commonPrefixLength(slot.sequence.contextTokens, tokens);
    if (conditioned < tokens.length) {
      // A response to a cut prompt must never pass for a verdict on the whole ticket.
      await slot.sequence.clearHistory().catch(() => undefined);
      throw new StageBError('INTERNAL', `node-llama-cpp dropped prompt tokens: the sequence holds ${conditioned} of the prompt's ${tokens.length} tokens after generation`, {
        file: this.modelPath,
        field: 'prompt',
      });
    }
    const finishReason: FinishReason = result.stopReason === 'maxTokens' ? 'length' : 'stop';
    return { text: result.text, finishReason, promptTokens: tokens.length, generatedTokens: used.generated };
  }

  /**
   * Prompt tokens are counted by the backend (`evaluated`, what the generation
   * had to evaluate). Generated tokens come from node-llama-cpp's meter, which
   * counts each decode's logit-producing token as output: the last prompt token
   * plus every sampled token but the last, i.e. the tokens sampled.
   */
  private recordUsage(slot: SequenceSlot, before: TokenMeterState, evaluated: number): { evaluated: number; generated: number } {
    const generated = slot.sequence.tokenMeter.diff(before).usedOutputTokens;
    this.meter.promptEvaluated += evaluated;
    this.meter.generated += generated;
    return { evaluated, generated };
  }

  private grammarFor(constraint: OutputConstraint): Promise<LlamaGrammar> | undefined {
    if (constraint.kind === 'none') return undefined;
    const key = constraint.kind === 'gbnf' ? `gbnf:${constraint.grammar}` : `json:${JSON.stringify(constraint.schema)}`;
    let grammar = this.grammars.get(key);
    if (!grammar) {
      const created: Promise<LlamaGrammar> =
        constraint.kind === 'gbnf'
          ? this.llama.createGrammar({ grammar: constraint.grammar })
          : (this.llama.createGrammarForJsonSchema(constraint.schema as never) as Promise<LlamaGrammar>);
      grammar = created.catch((error: unknown) => {
        this.grammars.delete(key);
        throw new StageBError('CONFIG_INVALID', `invalid ${constraint.kind} constraint: ${(error as Error)?.message ?? String(error)}`, { field: 'constraint' });
      });
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    const closedError = new StageBError('CANCELLED', 'backend closed', { file: this.modelPath });
    this.scheduler.rejectWaiters(closedError);
    for (const slot of this.scheduler.idleSlots) slot.sequence.dispose();
    await this.stager?.close(closedError);
    await this.context.dispose();
    await this.model.dispose();
  }
}

const GiB = 2 ** 30;

/**
 * Refuses a context whose KV cache alone exceeds all RAM (+ VRAM when a GPU is
 * used), before node-llama-cpp sizes it: for shapes with a small KV per token
 * and a huge context_size, its own estimate allocates in proportion to the
 * context and the process is OOM-killed instead of getting an error.
 */
async function refuseImpossibleKvCache(llama: Llama, config: LlamaCppModelConfig, bytesPerToken: number | null, modelPath: string, contexts: number): Promise<void> {
  if (bytesPerToken === null) return;
  const needed = bytesPerToken * config.context_size * config.sequences * contexts;
  const vram = llama.gpu === false ? 0 : (await llama.getVramState().catch(() => ({ total: 0 }))).total;
  const available = totalmem() + vram;
  if (needed <= available) return;
  throw new StageBError(
    'MODEL_OUT_OF_MEMORY',
    `cannot create ${contexts === 2 ? 'two contexts (model.overlap_prompts)' : 'a context'} of ${config.context_size} tokens x ${config.sequences} sequences: its KV cache alone needs ${(needed / GiB).toFixed(1)} GiB ` +
      `(${bytesPerToken} bytes per token per sequence), too large for the available RAM${vram > 0 ? ' and VRAM' : ''} (${(available / GiB).toFixed(1)} GiB) ` +
      '— not enough memory: lower model.context_size or model.sequences, or use a smaller model',
    { file: modelPath },
    { neededBytes: needed, availableBytes: available },
  );
}

export async function createLlamaCppBackend(config: LlamaCppModelConfig, options: LlamaCppBackendOptions = {}): Promise<LlamaCppBackend> {
  // The config loader resolves a config's paths against its folder; here a relative path is the process's, made absolute for messages.
  const modelPath = resolve(config.path);
  // Before node-llama-cpp sees the file: some malformed headers abort the process natively.
  const { header, architecture } = await checkGgufFile(modelPath);
  const rollout = options.rollout ?? 'shared';
  // The naive path is the sequential reference: it never overlaps.
  const overlap = config.overlap_prompts && rollout === 'shared';
  const { prompt: threads, decode: decodeThreads } = resolvePhaseThreads({ ...config, overlap_prompts: overlap }, physicalCoreCount());
  const llama = await getLlamaRuntime(config.gpu, overlap ? threads + decodeThreads : Math.max(threads, decodeThreads));
  // A failed native call says only "Failed to create context"; the reason is in llama.cpp's log.
  const nativeLog = NativeErrorLog.attach(llama);
  await refuseImpossibleKvCache(llama, config, kvCacheBytesPerToken(header, architecture), modelPath, overlap ? 2 : 1);
  let mark = nativeLog.mark();
  let model: LlamaModel;
  try {
    model = await llama.loadModel({
      modelPath,
      gpuLayers: config.gpu === false ? 0 : config.gpu_layers,
      loadSignal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw new StageBError('CANCELLED', 'model load cancelled', { file: modelPath });
    throw classifyNativeError(error, 'MODEL_LOAD_FAILED', modelPath, 'cannot load model', await nativeLog.since(mark));
  }
  const flashAttention = resolveFlashAttention(config.flash_attention, { onGpu: llama.gpu !== false && model.gpuLayers > 0 });
  const createContext = async (contextThreads: number, what: string): Promise<LlamaContext> => {
    mark = nativeLog.mark();
    try {
      return await model.createContext({
        contextSize: config.context_size,
        sequences: config.sequences,
        batchSize: config.batch_size,
        threads: contextThreads,
        flashAttention,
        failedCreationRemedy: false,
        createSignal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw new StageBError('CANCELLED', 'context creation cancelled', { file: modelPath });
      throw classifyNativeError(error, 'MODEL_LOAD_FAILED', modelPath, `cannot create ${what} of ${config.context_size} tokens x ${config.sequences} sequences`, await nativeLog.since(mark));
    }
  };
  let context: LlamaContext;
  let stager: PromptStager | null = null;
  try {
    context = await createContext(overlap ? decodeThreads : threads, 'a context');
  } catch (error) {
    await model.dispose();
    throw error;
  }
  let decodeBatching: DecodeBatching;
  try {
    decodeBatching = await decideDecodeBatching(config, rollout, context, model, modelPath, {
      sequences: config.sequences,
      onGpu: llama.gpu !== false && model.gpuLayers > 0,
      flashAttention,
    }, { created: overlap ? decodeThreads : threads, decode: decodeThreads }, nativeLog);
  } catch (error) {
    await context.dispose();
    await model.dispose();
    throw error;
  }
  if (overlap) {
    try {
      stager = await PromptStager.create(await createContext(threads, 'the prompt context (model.overlap_prompts)'), { copyState: options.copyState ?? true });
    } catch (error) {
      await context.dispose();
      await model.dispose();
      throw error;
    }
  }
  const name = ggufMetadataValue(header, 'general.name');
  const chatWrapper = createChatWrapper(model, ggufMetadataValue(header, 'tokenizer.chat_template'));
  return new LlamaCppBackend(
    llama,
    model,
    context,
    chatWrapper,
    modelPath,
    typeof name === 'string' ? name : basename(modelPath),
    threads,
    options.signal,
    rollout,
    overlap
      ? // Only state loads and copies reach this context, so nothing waits for a phase and every prompt is copied.
        { copyState: options.copyState ?? true, separatePhases: false, minCopyTokens: 1, batchDecode: decodeBatching.batched }
      : {
          copyState: options.copyState ?? true,
          separatePhases: options.separatePhases ?? true,
          batchDecode: decodeBatching.batched,
          ...(decodeThreads !== threads ? { promptThreads: threads, decodeThreads } : {}),
        },
    stager,
    decodeBatching,
    await describeLlamaRuntime(llama),
  );
}

/**
 * model.batch_decode for this model and machine: measured with checkBatchedDecode
 * on the decoding context, at the decode thread count, before any sequence is handed out.
 */
async function decideDecodeBatching(
  config: LlamaCppModelConfig,
  rollout: RolloutMode,
  context: LlamaContext,
  model: LlamaModel,
  modelPath: string,
  site: DecodeSite,
  threads: { created: number; decode: number },
  nativeLog: NativeErrorLog,
): Promise<DecodeBatching> {
  if (rollout === 'naive') return { batched: false, exact: true, reason: 'the naive reference path decodes one candidate at a time' };
  let check: BatchedDecodeCheck | null = null;
  // A context too small for the probe cannot hold a Stage-B prompt anyway.
  if (batchDecodeNeedsCheck(config.batch_decode, site) && context.contextSize >= BATCHED_DECODE_PROBE_CONTEXT_TOKENS) {
    const mark = nativeLog.mark();
    if (threads.decode !== threads.created) setContextThreads(context, threads.decode);
    try {
      check = await checkBatchedDecode(context, (text) => model.tokenize(text, false));
    } catch (error) {
      throw classifyNativeError(error, 'MODEL_LOAD_FAILED', modelPath, 'the batched-decode check failed', await nativeLog.since(mark));
    } finally {
      if (threads.decode !== threads.created) setContextThreads(context, threads.created);
    }
  }
  return resolveBatchDecode(config.batch_decode, site, check);
}
