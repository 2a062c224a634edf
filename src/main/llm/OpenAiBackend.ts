import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { StageBError } from '../../shared/errors';
import { createRng } from '../../shared/random';
import { openAiBackendConfig, urlWithoutCredentials, type OpenAiModelConfig } from '../../shared/schemas/backends/openAiModel';
import type { BackendInfo, Completion, GenerateRequest, LlmBackend, PromptSegments, TokenMeterSnapshot } from './LlmBackend';
import { Semaphore } from './openai/Semaphore';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from './openai/retryDelay';
import { planChatRequests, type PlannedChatRequest, type SeedMode } from './openai/planChatRequests';
import { constraintFields, type ServerKind } from './openai/constraintFields';
import { MalformedChatResponse, parseChatResponse } from './openai/parseChatResponse';
import { estimatePromptTokens, estimateTextTokens } from './openai/estimateTokens';
import { llamaCompletionBody, parseLlamaCompletion } from './openai/llamaCompletion';

export type { SeedMode } from './openai/planChatRequests';
export type { ServerKind } from './openai/constraintFields';

export type OpenAiBackendOptions = {
  fetchImpl?: typeof fetch;
  /** Clock for Retry-After dates. */
  now?: () => number;
  /** Waits between retries; injected by tests so they never wait for real. Must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Where api_key_env is looked up (default process.env). */
  env?: Record<string, string | undefined>;
  /** Uniform [0,1) source for backoff jitter (default: an RNG seeded from pid and time). */
  random?: () => number;
  /** See planChatRequests.ts. Default per_candidate. */
  seedMode?: SeedMode;
  /** Skips the GET /models probe and assumes this server. */
  serverKind?: ServerKind;
};

const BODY_EXCERPT_CHARS = 300;

type AttemptOutcome =
  | { kind: 'ok'; body: string }
  | { kind: 'http'; status: number; statusText: string; body: string; retryAfterMs: number | null }
  | { kind: 'network'; message: string }
  | { kind: 'timeout' };

type SendInit = { method: 'GET' | 'POST'; body?: unknown; retries?: number };

/**
 * Drives any OpenAI-compatible chat server (vLLM, SGLang, llama.cpp server).
 * Returns raw text and finish reasons; the engine parses verdicts strictly, so a
 * server that ignores a constraint field lowers validity, never correctness.
 */
export function createOpenAiBackend(config: OpenAiModelConfig, options: OpenAiBackendOptions = {}): LlmBackend {
  const fetchImpl = options.fetchImpl ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? createRng((Date.now() ^ (process.pid << 8)) >>> 0);
  const seedMode: SeedMode = options.seedMode ?? 'per_candidate';
  const env = options.env ?? process.env;

  const apiKey = readApiKey(config, env);
  const baseUrl = config.base_url.replace(/\/+$/, '');
  // vLLM and llama.cpp serve /tokenize at the server root, beside /v1.
  const rootUrl = baseUrl.replace(/\/v1$/, '');
  const displayBase = urlWithoutCredentials(baseUrl);

  const semaphore = new Semaphore(config.concurrency);
  const closeController = new AbortController();
  // Every generate call in flight listens on it (a rollout batch keeps dozens open): no leak, so no warning.
  setMaxListeners(0, closeController.signal);

  const meter: TokenMeterSnapshot = { promptEvaluated: 0, promptUnique: 0, promptTotal: 0, generated: 0 };
  const seenPrompts = new Set<string>();

  let serverKindPromise: Promise<ServerKind> | null = options.serverKind ? Promise.resolve(options.serverKind) : null;
  let tokenizeAvailable = true;

  const info: BackendInfo = {
    backend: openAiBackendConfig.name,
    modelName: config.model,
    modelPath: null,
    contextSize: config.context_size,
    gpu: 'remote',
  };

  function redact(text: string): string {
    return apiKey ? text.split(apiKey).join('[redacted]') : text;
  }

  function headers(hasBody: boolean): Record<string, string> {
    const result: Record<string, string> = { accept: 'application/json' };
    if (hasBody) result['content-type'] = 'application/json';
    if (apiKey) result.authorization = `Bearer ${apiKey}`;
    return result;
  }

  async function attemptOnce(url: string, init: SendInit, signal: AbortSignal): Promise<AttemptOutcome> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, config.timeout_ms);
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await fetchImpl(url, {
        method: init.method,
        headers: headers(init.body !== undefined),
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: controller.signal,
      });
      // The timeout covers the whole body, not just the headers.
      const body = await response.text();
      if (response.ok) return { kind: 'ok', body };
      return {
        kind: 'http',
        status: response.status,
        statusText: response.statusText,
        body,
        retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after'), now()),
      };
    } catch (error) {
      if (signal.aborted) throw cancelledError(url);
      if (timedOut) return { kind: 'timeout' };
      return { kind: 'network', message: describeNetworkError(error) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  function cancelledError(url: string): StageBError {
    return new StageBError('CANCELLED', `request to ${urlWithoutCredentials(url)} was cancelled`, { field: 'model' });
  }

  /** One logical request: semaphore slot per attempt, retries with backoff, typed errors. Resolves to the body text. */
  async function send(path: string, init: SendInit, signal: AbortSignal, root = false): Promise<string> {
    const url = `${root ? rootUrl : baseUrl}${path}`;
    const shownUrl = `${init.method} ${urlWithoutCredentials(url)}`;
    const retries = init.retries ?? config.max_retries;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw cancelledError(url);
      const release = await semaphore.acquire(signal).catch(() => {
        throw cancelledError(url);
      });
      let outcome: AttemptOutcome;
      try {
        outcome = await attemptOnce(url, init, signal);
      } finally {
        release();
      }
      if (outcome.kind === 'ok') return outcome.body;

      const attempts = attempt + 1;
      const retryable = outcome.kind !== 'http' || isRetryableStatus(outcome.status);
      if (!retryable || attempt >= retries) throw finalError(outcome, shownUrl, attempts);

      const delay = outcome.kind === 'http' && outcome.retryAfterMs !== null ? outcome.retryAfterMs : backoffDelayMs(attempt, random);
      try {
        await sleep(delay, signal);
      } catch {
        throw cancelledError(url);
      }
      if (signal.aborted) throw cancelledError(url);
    }
  }

  function finalError(outcome: Exclude<AttemptOutcome, { kind: 'ok' }>, shownUrl: string, attempts: number): StageBError {
    const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
    switch (outcome.kind) {
      case 'timeout':
        return new StageBError(
          'BACKEND_TIMEOUT',
          `${shownUrl} did not answer within timeout_ms=${config.timeout_ms} (${tries})`,
          { field: 'model.timeout_ms' },
          { url: shownUrl, attempts, timeoutMs: config.timeout_ms },
        );
      case 'network':
        return new StageBError(
          'BACKEND_HTTP',
          redact(`${shownUrl} failed: ${outcome.message} (${tries}); is the server running at ${displayBase}?`),
          { field: 'model.base_url' },
          { url: shownUrl, attempts, status: null },
        );
      case 'http': {
        const excerpt = redact(excerptOf(outcome.body));
        return new StageBError(
          'BACKEND_HTTP',
          `${shownUrl} returned HTTP ${outcome.status}${outcome.statusText ? ` ${outcome.statusText}` : ''} (${tries}): ${excerpt || '(empty body)'}`,
          { field: 'model.base_url' },
          { url: shownUrl, attempts, status: outcome.status, bodyExcerpt: excerpt },
        );
      }
    }
  }

  function linkedSignal(signal?: AbortSignal): { signal: AbortSignal; abort: () => void; dispose: () => void } {
    const controller = new AbortController();
    const abort = () => controller.abort();
    const sources = [closeController.signal, signal].filter((s): s is AbortSignal => s !== undefined);
    for (const source of sources) {
      if (source.aborted) controller.abort();
      else source.addEventListener('abort', abort, { once: true });
    }
    return { signal: controller.signal, abort, dispose: () => sources.forEach((s) => s.removeEventListener('abort', abort)) };
  }

  /** GET /models once: vLLM, llama.cpp and SGLang each name themselves in owned_by. */
  function serverKind(): Promise<ServerKind> {
    if (!serverKindPromise) {
      const attempt = (async (): Promise<ServerKind> => {
        try {
          const body = await send('/models', { method: 'GET', retries: 0 }, closeController.signal);
          return kindFromModels(body);
        } catch (error) {
          // A server that answered (404 from a proxy, say) is "unknown" for good;
          // one that did not answer is probed again on the next call.
          if (error instanceof StageBError && error.code === 'BACKEND_HTTP' && (error.details as { status?: number | null })?.status) return 'unknown';
          serverKindPromise = null;
          return 'unknown';
        }
      })();
      serverKindPromise = attempt;
    }
    return serverKindPromise;
  }

  function recordUsage(prompt: PromptSegments, promptTokens: number, cachedTokens: number, candidates: number, completionTokens: number): void {
    meter.promptTotal += promptTokens * candidates;
    meter.promptEvaluated += promptTokens - cachedTokens;
    meter.generated += completionTokens;
    const key = promptKey(prompt);
    if (!seenPrompts.has(key)) {
      seenPrompts.add(key);
      meter.promptUnique += promptTokens;
    }
  }

  async function runPlanned(
    planned: PlannedChatRequest,
    request: GenerateRequest,
    extraFields: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Completion[]> {
    const body: Record<string, unknown> = {
      model: config.model,
      messages: chatMessages(request.prompt),
      n: planned.n,
      seed: planned.seed,
      temperature: planned.temperature,
      top_p: planned.top_p,
      max_tokens: planned.max_tokens,
      stream: false,
      ...extraFields,
    };
    if (request.stop && request.stop.length > 0) body.stop = request.stop;
    const text = await send('/chat/completions', { method: 'POST', body }, signal);
    let parsed;
    try {
      parsed = parseChatResponse(text, planned.n);
    } catch (error) {
      if (!(error instanceof MalformedChatResponse)) throw error;
      throw new StageBError(
        'BACKEND_MALFORMED_RESPONSE',
        `POST ${urlWithoutCredentials(baseUrl)}/chat/completions: ${error.message}; body starts: ${redact(excerptOf(text)) || '(empty)'}`,
        { field: 'model.base_url' },
        { issue: error.issue, expectedChoices: planned.n, bodyExcerpt: redact(excerptOf(text)) },
      );
    }
    const promptTokens = parsed.usage?.promptTokens ?? estimatePromptTokens(request.prompt);
    const completionTokens = parsed.usage?.completionTokens ?? parsed.choices.reduce((sum, c) => sum + estimateTextTokens(c.text), 0);
    recordUsage(request.prompt, promptTokens, parsed.usage?.cachedTokens ?? 0, planned.n, completionTokens);
    const perChoice = apportionTokens(completionTokens, parsed.choices.map((c) => c.text));
    return parsed.choices.map((choice, i) => ({
      text: choice.text,
      finishReason: choice.finishReason,
      promptTokens,
      generatedTokens: perChoice[i],
    }));
  }

  /** The prompt as the model's chat template renders it, from llama.cpp's POST /apply-template. */
  async function renderWithServerTemplate(prompt: PromptSegments, signal: AbortSignal): Promise<string> {
    const text = await send('/apply-template', { method: 'POST', body: { messages: chatMessages(prompt) } }, signal, true);
    let rendered: unknown;
    try {
      rendered = (JSON.parse(text) as { prompt?: unknown }).prompt;
    } catch {
      rendered = undefined;
    }
    if (typeof rendered !== 'string') {
      throw new StageBError(
        'BACKEND_MALFORMED_RESPONSE',
        `POST ${urlWithoutCredentials(rootUrl)}/apply-template: no "prompt" string in the answer; body starts: ${redact(excerptOf(text)) || '(empty)'}`,
        { field: 'model.base_url' },
        { issue: 'missing_content', bodyExcerpt: redact(excerptOf(text)) },
      );
    }
    return rendered;
  }

  /** One candidate through llama.cpp's native /completion (see openai/llamaCompletion.ts for why not chat). */
  async function runLlamaCompletion(planned: PlannedChatRequest, request: GenerateRequest, renderedPrompt: string, signal: AbortSignal): Promise<Completion[]> {
    const body = llamaCompletionBody(planned, renderedPrompt, request.constraint, config.guided_decoding, request.stop);
    const text = await send('/completion', { method: 'POST', body }, signal, true);
    let parsed;
    try {
      parsed = parseLlamaCompletion(text);
    } catch (error) {
      if (!(error instanceof MalformedChatResponse)) throw error;
      throw new StageBError(
        'BACKEND_MALFORMED_RESPONSE',
        `POST ${urlWithoutCredentials(rootUrl)}/completion: ${error.message}; body starts: ${redact(excerptOf(text)) || '(empty)'}`,
        { field: 'model.base_url' },
        { issue: error.issue, expectedChoices: 1, bodyExcerpt: redact(excerptOf(text)) },
      );
    }
    const promptTokens = parsed.usage?.promptTokens ?? estimatePromptTokens(request.prompt);
    const completionTokens = parsed.usage?.completionTokens ?? estimateTextTokens(parsed.text);
    recordUsage(request.prompt, promptTokens, parsed.usage?.cachedTokens ?? 0, 1, completionTokens);
    return [{ text: parsed.text, finishReason: parsed.finishReason, promptTokens, generatedTokens: completionTokens }];
  }

  async function tokenizeCount(kind: ServerKind, payload: { text: string } | { prompt: PromptSegments }): Promise<number | null> {
    if (!tokenizeAvailable || (kind !== 'vllm' && kind !== 'llama.cpp')) return null;
    const signal = closeController.signal;
    try {
      if (kind === 'vllm') {
        const body =
          'text' in payload
            ? { model: config.model, prompt: payload.text, add_special_tokens: false }
            : { model: config.model, messages: chatMessages(payload.prompt), add_generation_prompt: true };
        return countFromTokenizeBody(await send('/tokenize', { method: 'POST', body }, signal, true));
      }
      let content: string;
      let addSpecial = false;
      if ('text' in payload) content = payload.text;
      else {
        const templated = JSON.parse(await send('/apply-template', { method: 'POST', body: { messages: chatMessages(payload.prompt) } }, signal, true)) as {
          prompt?: unknown;
        };
        if (typeof templated.prompt !== 'string') return null;
        content = templated.prompt;
        addSpecial = true;
      }
      return countFromTokenizeBody(
        await send('/tokenize', { method: 'POST', body: { content, add_special: addSpecial, parse_special: true } }, signal, true),
      );
    } catch (error) {
      if (error instanceof StageBError && error.code === 'CANCELLED') throw error;
      const status = error instanceof StageBError ? (error.details as { status?: number | null } | undefined)?.status : undefined;
      if (status === 404 || status === 405 || status === 501) tokenizeAvailable = false;
      return null;
    }
  }

  return {
    info,

    async generate(request: GenerateRequest, signal?: AbortSignal): Promise<Completion[]> {
      if (request.candidates.length === 0) return [];
      if (signal?.aborted) throw new StageBError('CANCELLED', 'generate was cancelled before it started', { field: 'model' });
      const linked = linkedSignal(signal);
      try {
        // The kind picks the endpoint too (llama.cpp: /completion), so it is always asked.
        const kind = await untilAborted(serverKind(), linked.signal);
        const plan = planChatRequests(request.candidates, {
          seedMode,
          // Older llama.cpp servers reject n > 1 on /chat/completions.
          maxChoicesPerRequest: kind === 'llama.cpp' ? 1 : Number.POSITIVE_INFINITY,
        });
        const extraFields = constraintFields(request.constraint, config.guided_decoding, kind);
        // llama.cpp: the template is rendered once per generate call, shared by its candidates.
        const renderedPrompt = kind === 'llama.cpp' ? await renderWithServerTemplate(request.prompt, linked.signal) : null;
        const results = await Promise.all(
          plan.map((planned) =>
            (renderedPrompt !== null
              ? runLlamaCompletion(planned, request, renderedPrompt, linked.signal)
              : runPlanned(planned, request, extraFields, linked.signal)
            ).catch((error: unknown) => {
              // First failure stops the siblings; Promise.all reports this one.
              linked.abort();
              throw error;
            }),
          ),
        );
        const completions: Completion[] = new Array(request.candidates.length);
        plan.forEach((planned, p) => planned.candidateIndices.forEach((candidate, i) => (completions[candidate] = results[p][i])));
        return completions;
      } catch (error) {
        if (signal?.aborted && !(error instanceof StageBError && error.code === 'CANCELLED')) {
          throw new StageBError('CANCELLED', 'generate was cancelled', { field: 'model' });
        }
        throw error;
      } finally {
        linked.dispose();
      }
    },

    async countPromptTokens(prompt: PromptSegments): Promise<number> {
      const exact = await tokenizeCount(await serverKind(), { prompt });
      return exact ?? estimatePromptTokens(prompt);
    },

    async countTextTokens(text: string): Promise<number> {
      const exact = await tokenizeCount(await serverKind(), { text });
      return exact ?? estimateTextTokens(text);
    },

    tokenMeter(): TokenMeterSnapshot {
      return { ...meter };
    },

    async close(): Promise<void> {
      closeController.abort();
    },
  };
}

function readApiKey(config: OpenAiModelConfig, env: Record<string, string | undefined>): string | null {
  if (config.api_key_env === null) return null;
  const value = env[config.api_key_env];
  if (value === undefined || value === '') {
    throw new StageBError(
      'CONFIG_INVALID',
      `environment variable ${config.api_key_env} (named by model.api_key_env) is not set; export it before starting the run`,
      { field: 'model.api_key_env' },
    );
  }
  return value;
}

function chatMessages(prompt: PromptSegments): Array<{ role: 'system' | 'user'; content: string }> {
  return [
    { role: 'system', content: prompt.system },
    { role: 'user', content: prompt.userParts.join('') },
  ];
}

function promptKey(prompt: PromptSegments): string {
  return createHash('sha256').update(prompt.system).update('\u0000').update(prompt.userParts.join('')).digest('base64');
}

function kindFromModels(body: string): ServerKind {
  try {
    const json = JSON.parse(body) as { data?: Array<{ owned_by?: unknown }> };
    const owners = (json.data ?? []).map((m) => String(m.owned_by ?? '').toLowerCase());
    if (owners.some((o) => o === 'vllm')) return 'vllm';
    if (owners.some((o) => o === 'llamacpp' || o === 'llama.cpp')) return 'llama.cpp';
    if (owners.some((o) => o === 'sglang')) return 'sglang';
  } catch {
    // Not JSON: some proxies answer /models with HTML; treat as unknown.
  }
  return 'unknown';
}

function countFromTokenizeBody(body: string): number | null {
  const json = JSON.parse(body) as { count?: unknown; tokens?: unknown };
  if (typeof json.count === 'number') return json.count;
  if (Array.isArray(json.tokens)) return json.tokens.length;
  return null;
}

/**
 * usage.completion_tokens is one number for all n choices; per-choice counts are
 * apportioned by estimated text length (largest remainder), so the sum stays exact.
 */
export function apportionTokens(total: number, texts: string[]): number[] {
  if (texts.length === 1) return [total];
  const weights = texts.map((t) => Math.max(1, estimateTextTokens(t)));
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const raw = weights.map((w) => (total * w) / weightSum);
  const result = raw.map(Math.floor);
  let remainder = total - result.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => ({ i, frac: r - Math.floor(r) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (remainder <= 0) break;
    result[i]++;
    remainder--;
  }
  return result;
}

function excerptOf(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_EXCERPT_CHARS ? `${flat.slice(0, BODY_EXCERPT_CHARS)}…` : flat;
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${error.message} (${cause.code})` : cause?.message ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

/** Lets a caller stop waiting on a shared promise (the /models probe) without cancelling it for others. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new StageBError('CANCELLED', 'generate was cancelled', { field: 'model' }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StageBError('CANCELLED', 'generate was cancelled', { field: 'model' }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
