import { access } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import {
  ChatMLChatWrapper,
  JinjaTemplateChatWrapper,
  LlamaCompletion,
  resolveChatWrapper,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
  type TokenMeterState,
} from 'node-llama-cpp';
import { StageBError, type ErrorCode } from '../../shared/errors';
import type { LlamaCppModelConfig } from '../../shared/schemas/runConfig';
import type { DecodeParams } from '../../shared/schemas/decode';
import { checkGgufFile, ggufMetadataValue } from './gguf/ggufHeader';
import { getLlamaRuntime, resolveThreadCount } from './llamaRuntime';
import { PromptPrefixMeter } from './promptPrefixMeter';
import { ensureTinyModel } from './tinyModel';
import type {
  BackendInfo,
  Completion,
  FinishReason,
  GenerateRequest,
  LlmBackend,
  OutputConstraint,
  PromptSegments,
  TokenMeterSnapshot,
} from './LlmBackend';

export type LlamaCppBackendOptions = { configDir?: string; signal?: AbortSignal };

type SequenceSlot = { sequence: LlamaContextSequence; completion: LlamaCompletion };
type Waiter = { tokens: Token[]; resolve: (slot: SequenceSlot) => void; reject: (error: unknown) => void; signal?: AbortSignal };

/** Maps native / node-llama-cpp failures onto the typed codes people see. */
function classifyNativeError(error: unknown, fallback: ErrorCode, file: string, what: string): StageBError {
  if (error instanceof StageBError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const lower = message.toLowerCase();
  let code = fallback;
  if (/out of memory|insufficient memory|not enough (v)?ram|failed to allocate|vram|cudamalloc|alloc.*fail/.test(lower)) code = 'MODEL_OUT_OF_MEMORY';
  else if (/context size is too small|context.*(overflow|full|exceed)|no space|kv cache/.test(lower)) code = 'MODEL_CONTEXT_OVERFLOW';
  return new StageBError(code, `${what}: ${message}`, { file });
}

function isAbortError(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  return error instanceof Error && (error.name === 'AbortError' || /abort/i.test(error.message));
}

function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
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
  private readonly idle: SequenceSlot[];
  private readonly waiters: Waiter[] = [];
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
    private readonly externalSignal?: AbortSignal,
  ) {
    this.idle = [];
    for (let i = 0; i < context.totalSequences; i++) {
      const sequence = context.getSequence();
      this.idle.push({ sequence, completion: new LlamaCompletion({ contextSequence: sequence }) });
    }
    this.info = { backend: 'llama-cpp', modelName, modelPath, contextSize: context.contextSize, gpu: llama.gpu };
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
    const slot = await this.acquire(tokens, combined);
    try {
      const grammar = await pendingGrammar;
      this.prefixMeter.add(tokens);
      const completions: Completion[] = [];
      for (const candidate of request.candidates) {
        completions.push(await this.generateOne(slot, tokens, candidate, grammar, request.stop, combined));
      }
      return completions;
    } finally {
      this.release(slot);
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
    this.meter.promptTotal += tokens.length;
    try {
      const result = await slot.completion.generateCompletionWithMeta(tokens.slice(), {
        maxTokens: params.max_new_tokens,
        temperature: params.temperature,
        topP: params.top_p,
        seed: params.seed,
        grammar,
        customStopTriggers: stop && stop.length > 0 ? stop : undefined,
        repeatPenalty: false,
        disableContextShift: true,
        signal,
      });
      const used = this.recordUsage(slot, before);
      const reason = result.metadata.stopReason;
      const finishReason: FinishReason = reason === 'maxTokens' ? 'length' : reason === 'abort' ? 'abort' : 'stop';
      return { text: result.response, finishReason, promptTokens: tokens.length, generatedTokens: used.generated };
    } catch (error) {
      this.recordUsage(slot, before);
      if (isAbortError(error, signal)) throw new StageBError('CANCELLED', 'generation cancelled', { file: this.modelPath });
      // The sequence state is unknown after a native failure; start it clean next time.
      await slot.sequence.clearHistory().catch(() => undefined);
      throw classifyNativeError(error, 'INTERNAL', this.modelPath, 'generation failed');
    }
  }

  /**
   * node-llama-cpp meters each decode's logit-producing token as "output", so
   * the last prompt token lands there (input = prompt tokens evaluated - 1) and
   * output equals the tokens sampled (the last sampled one is never fed back).
   * Measured: a fresh 2,363-token prompt with maxTokens 1 gives input 2,362, output 1.
   */
  private recordUsage(slot: SequenceSlot, before: TokenMeterState): { evaluated: number; generated: number } {
    const used = slot.sequence.tokenMeter.diff(before);
    const evaluated = used.usedInputTokens + (used.usedOutputTokens > 0 ? 1 : 0);
    const generated = used.usedOutputTokens;
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

  /** Takes the idle sequence whose cached tokens share the longest prefix with `tokens`. */
  private takeBestIdle(tokens: readonly Token[]): SequenceSlot {
    let bestIndex = 0;
    let bestLength = -1;
    for (let i = 0; i < this.idle.length; i++) {
      const length = commonPrefixLength(this.idle[i].sequence.contextTokens, tokens);
      if (length > bestLength) {
        bestLength = length;
        bestIndex = i;
      }
    }
    return this.idle.splice(bestIndex, 1)[0];
  }

  private acquire(tokens: Token[], signal: AbortSignal): Promise<SequenceSlot> {
    if (this.idle.length > 0 && this.waiters.length === 0) return Promise.resolve(this.takeBestIdle(tokens));
    return new Promise<SequenceSlot>((resolvePromise, reject) => {
      const waiter: Waiter = { tokens, resolve: resolvePromise, reject, signal };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new StageBError('CANCELLED', 'generation cancelled while queued', { file: this.modelPath }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.resolve = (slot) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(slot);
      };
      this.waiters.push(waiter);
    });
  }

  private release(slot: SequenceSlot): void {
    this.idle.push(slot);
    while (this.idle.length > 0 && this.waiters.length > 0) {
      const waiter = this.waiters.shift()!;
      waiter.resolve(this.takeBestIdle(waiter.tokens));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const waiter of this.waiters.splice(0)) waiter.reject(new StageBError('CANCELLED', 'backend closed', { file: this.modelPath }));
    for (const slot of this.idle) slot.completion.dispose({ disposeSequence: true });
    await this.context.dispose();
    await this.model.dispose();
  }
}

/** Resolves `path` against the config directory and makes sure a loadable GGUF is there. */
async function resolveModelFile(config: LlamaCppModelConfig, configDir: string | undefined): Promise<string> {
  const path = isAbsolute(config.path) ? config.path : resolve(configDir ?? process.cwd(), config.path);
  const exists = await access(path).then(() => true, () => false);
  if (!exists && config.auto_create_tiny) await ensureTinyModel(path);
  return path;
}

export async function createLlamaCppBackend(config: LlamaCppModelConfig, options: LlamaCppBackendOptions = {}): Promise<LlamaCppBackend> {
  const modelPath = await resolveModelFile(config, options.configDir);
  // Before node-llama-cpp sees the file: some malformed headers abort the process natively.
  const { header } = await checkGgufFile(modelPath);
  const threads = resolveThreadCount(config.threads);
  const llama = await getLlamaRuntime(config.gpu, threads);
  let model: LlamaModel;
  try {
    model = await llama.loadModel({
      modelPath,
      gpuLayers: config.gpu === false ? 0 : config.gpu_layers,
      loadSignal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw new StageBError('CANCELLED', 'model load cancelled', { file: modelPath });
    throw classifyNativeError(error, 'MODEL_LOAD_FAILED', modelPath, 'cannot load model');
  }
  let context: LlamaContext;
  try {
    context = await model.createContext({
      contextSize: config.context_size,
      sequences: config.sequences,
      batchSize: config.batch_size,
      threads,
      failedCreationRemedy: false,
      createSignal: options.signal,
    });
  } catch (error) {
    await model.dispose();
    if (options.signal?.aborted) throw new StageBError('CANCELLED', 'context creation cancelled', { file: modelPath });
    throw classifyNativeError(error, 'MODEL_LOAD_FAILED', modelPath, `cannot create a context of ${config.context_size} tokens x ${config.sequences} sequences`);
  }
  const name = ggufMetadataValue(header, 'general.name');
  const chatWrapper = createChatWrapper(model, ggufMetadataValue(header, 'tokenizer.chat_template'));
  return new LlamaCppBackend(llama, model, context, chatWrapper, modelPath, typeof name === 'string' ? name : basename(modelPath), threads, options.signal);
}
