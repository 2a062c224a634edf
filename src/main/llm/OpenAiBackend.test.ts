import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAiBackend, type OpenAiBackendOptions } from './OpenAiBackend';
import type { GenerateRequest, OutputConstraint } from './LlmBackend';
import { OpenAiModelSchema } from '../../shared/schemas/runConfig';
import type { DecodeParams } from '../../shared/schemas/decode';
import { StageBError } from '../../shared/errors';
import {
  chatCompletionBody,
  startMockOpenAiServer,
  type MockOpenAiServer,
  type MockOpenAiServerOptions,
  type RecordedRequest,
  type ScriptedResponse,
} from '../../../test/helpers/mockOpenAiServer';
import { estimateTextTokens } from './openai/estimateTokens';

const servers: MockOpenAiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function mockServer(options: MockOpenAiServerOptions = {}): Promise<MockOpenAiServer> {
  const server = await startMockOpenAiServer(options);
  servers.push(server);
  return server;
}

function configFor(server: { baseUrl: string }, overrides: Record<string, unknown> = {}) {
  return OpenAiModelSchema.parse({ backend: 'openai', base_url: server.baseUrl, model: 'mock-model', ...overrides });
}

function candidate(seed: number, temperature = 0.7, top_p = 0.9, max_new_tokens = 64): DecodeParams {
  return { seed, temperature, top_p, max_new_tokens, prompt_variant: 'default' };
}

function request(candidates: DecodeParams[], constraint: OutputConstraint = { kind: 'none' }, stop?: string[]): GenerateRequest {
  return { prompt: { system: 'You judge tickets.', userParts: ['G0: check ground.\n', 'ticket 7: 接地线完好'] }, candidates, constraint, stop };
}

function recordingSleep(): { sleeps: number[]; sleep: NonNullable<OpenAiBackendOptions['sleep']> } {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      if (signal?.aborted) throw new Error('aborted');
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<StageBError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StageBError);
    return error as StageBError;
  }
  throw new Error('expected a rejection');
}

/** llama.cpp server's native routes: /apply-template renders ChatML, /completion echoes the seed with timings. */
function llamaRoutes(overrides: { completion?: (req: RecordedRequest, index: number) => ScriptedResponse } = {}): MockOpenAiServerOptions['routes'] {
  let index = 0;
  return {
    '/apply-template': (req) => ({
      body: { prompt: req.body.messages.map((m: { role: string; content: string }) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('') + '<|im_start|>assistant\n' },
    }),
    '/completion': (req) =>
      overrides.completion?.(req, index++) ?? {
        body: { content: `seed=${req.body.seed}`, stop_type: 'eos', tokens_evaluated: 90, tokens_predicted: 4, timings: { prompt_n: 90, cache_n: 0, predicted_n: 4 } },
      },
  };
}

function completionRequests(server: MockOpenAiServer): RecordedRequest[] {
  return server.requests.filter((r) => r.path === '/completion');
}

describe('createOpenAiBackend: requests', () => {
  it('groups candidates that share decode params into one request with n (grouped seed mode)', async () => {
    const server = await mockServer({ ownedBy: 'vllm' });
    const backend = createOpenAiBackend(configFor(server), { seedMode: 'grouped' });
    const candidates = [candidate(11, 0.7), candidate(22, 1.0, 0.95), candidate(33, 0.7), candidate(44, 1.0, 0.95)];
    const completions = await backend.generate(request(candidates, { kind: 'none' }, ['\n\n']));

    const chats = server.chatRequests();
    expect(chats).toHaveLength(2);
    const byTemp = new Map(chats.map((c) => [c.body.temperature, c.body]));
    expect(byTemp.get(0.7)).toMatchObject({ n: 2, seed: 11, top_p: 0.9, max_tokens: 64, model: 'mock-model', stop: ['\n\n'] });
    expect(byTemp.get(1.0)).toMatchObject({ n: 2, seed: 22, top_p: 0.95 });
    expect(chats[0].body.messages).toEqual([
      { role: 'system', content: 'You judge tickets.' },
      { role: 'user', content: 'G0: check ground.\nticket 7: 接地线完好' },
    ]);
    // Choice i of a grouped request belongs to the i-th candidate of that group, in candidate order.
    expect(completions.map((c) => c.text)).toEqual(['seed=11 choice=0', 'seed=22 choice=0', 'seed=11 choice=1', 'seed=22 choice=1']);
    expect(completions.every((c) => c.finishReason === 'stop' && c.promptTokens === 100)).toBe(true);
    const generatedPerRequest = 'seed=11 choice=0'.length * 2;
    expect(completions[0].generatedTokens + completions[2].generatedTokens).toBe(generatedPerRequest);
  });

  it('sends one n=1 request per distinct seed by default, so each candidate gets exactly its own seed', async () => {
    const server = await mockServer({ ownedBy: 'vllm' });
    const backend = createOpenAiBackend(configFor(server));
    const seeds = [101, 202, 303, 404];
    const completions = await backend.generate(request(seeds.map((s) => candidate(s))));
    const chats = server.chatRequests();
    expect(chats).toHaveLength(4);
    expect(chats.map((c) => c.body.n)).toEqual([1, 1, 1, 1]);
    expect(chats.map((c) => c.body.seed).sort()).toEqual(seeds);
    expect(completions.map((c) => c.text)).toEqual(seeds.map((s) => `seed=${s} choice=0`));
  });

  it('still uses n for candidates whose params and seed are all equal (per_candidate mode)', async () => {
    const server = await mockServer({ ownedBy: 'vllm' });
    const backend = createOpenAiBackend(configFor(server));
    const completions = await backend.generate(request([candidate(5), candidate(5), candidate(6)]));
    const chats = server.chatRequests();
    expect(chats.map((c) => [c.body.seed, c.body.n]).sort()).toEqual([
      [5, 2],
      [6, 1],
    ]);
    expect(completions.map((c) => c.text)).toEqual(['seed=5 choice=0', 'seed=5 choice=1', 'seed=6 choice=0']);
  });

  it('sends llama.cpp server one /completion per candidate, even in grouped mode, never chat', async () => {
    const server = await mockServer({ ownedBy: 'llamacpp', routes: llamaRoutes() });
    const backend = createOpenAiBackend(configFor(server), { seedMode: 'grouped' });
    await backend.generate(request([candidate(1), candidate(1), candidate(3)]));
    expect(server.chatRequests()).toHaveLength(0);
    expect(completionRequests(server).map((r) => r.body.seed)).toEqual([1, 1, 3]);
    expect(completionRequests(server).every((r) => r.body.n === undefined)).toBe(true);
  });
});

describe('createOpenAiBackend: retries and failures', () => {
  it('retries a 429 after the Retry-After delay, then succeeds', async () => {
    const server = await mockServer();
    server.script({ status: 429, headers: { 'retry-after': '2' }, body: { error: 'slow down' } });
    const { sleeps, sleep } = recordingSleep();
    const backend = createOpenAiBackend(configFor(server), { sleep, serverKind: 'vllm' });
    const completions = await backend.generate(request([candidate(9)]));
    expect(completions[0].text).toBe('seed=9 choice=0');
    expect(server.chatRequests()).toHaveLength(2);
    expect(sleeps).toEqual([2000]);
  });

  it('honours a Retry-After HTTP date against the injected clock', async () => {
    const server = await mockServer();
    const now = Date.parse('2026-01-01T00:00:00Z');
    server.script({ status: 503, headers: { 'retry-after': new Date(now + 5000).toUTCString() }, body: 'busy' });
    const { sleeps, sleep } = recordingSleep();
    const backend = createOpenAiBackend(configFor(server), { sleep, now: () => now, serverKind: 'vllm' });
    await backend.generate(request([candidate(9)]));
    expect(sleeps).toEqual([5000]);
  });

  it('backs off exponentially with jitter when there is no Retry-After', async () => {
    const server = await mockServer();
    server.script({ status: 502, body: 'bad gateway' }, { status: 500, body: 'oops' });
    const { sleeps, sleep } = recordingSleep();
    const backend = createOpenAiBackend(configFor(server), { sleep, random: () => 0.5, serverKind: 'vllm' });
    await backend.generate(request([candidate(9)]));
    // base 500 ms: retry 0 waits in [250, 500), retry 1 in [500, 1000); random 0.5 hits 3/4 of the ceiling.
    expect(sleeps).toEqual([375, 750]);
  });

  it('gives up after max_retries + 1 server errors with BACKEND_HTTP', async () => {
    const server = await mockServer({ chat: () => ({ status: 500, body: { error: 'engine dead' } }) });
    const { sleeps, sleep } = recordingSleep();
    const backend = createOpenAiBackend(configFor(server, { max_retries: 3 }), { sleep, serverKind: 'vllm' });
    const error = await rejection(backend.generate(request([candidate(1)])));
    expect(error.code).toBe('BACKEND_HTTP');
    expect(error.message).toContain('HTTP 500');
    expect(error.message).toContain('engine dead');
    expect(error.message).toContain('4 attempts');
    expect(server.chatRequests()).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
  });

  it('does not retry a 400 and reports the status and a body excerpt', async () => {
    const server = await mockServer();
    server.script({ status: 400, body: { error: { message: "'max_tokens' is too large: 99999" } } });
    const { sleeps, sleep } = recordingSleep();
    const backend = createOpenAiBackend(configFor(server), { sleep, serverKind: 'vllm' });
    const error = await rejection(backend.generate(request([candidate(1)])));
    expect(error.code).toBe('BACKEND_HTTP');
    expect(error.message).toContain('HTTP 400');
    expect(error.message).toContain('max_tokens');
    expect((error.details as { status: number }).status).toBe(400);
    expect(server.chatRequests()).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('turns an unreachable server into BACKEND_HTTP after retrying', async () => {
    const server = await mockServer();
    const baseUrl = server.baseUrl;
    await server.close();
    const { sleeps, sleep } = recordingSleep();
    const backend = createOpenAiBackend(configFor({ baseUrl }, { max_retries: 2 }), { sleep, serverKind: 'vllm' });
    const error = await rejection(backend.generate(request([candidate(1)])));
    expect(error.code).toBe('BACKEND_HTTP');
    expect(error.message).toContain('is the server running');
    expect(sleeps).toHaveLength(2);
  });

  it('times out each attempt after timeout_ms and reports BACKEND_TIMEOUT', async () => {
    const server = await mockServer({ chat: () => ({ hang: true }) });
    const { sleeps, sleep } = recordingSleep();
    const backend = createOpenAiBackend(configFor(server, { timeout_ms: 500, max_retries: 1 }), { sleep, serverKind: 'vllm' });
    const error = await rejection(backend.generate(request([candidate(1)])));
    expect(error.code).toBe('BACKEND_TIMEOUT');
    expect(error.message).toContain('timeout_ms=500');
    expect(server.chatRequests()).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('cancels a request in flight when the signal aborts, without retrying', async () => {
    let received!: () => void;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    const server = await mockServer({
      chat: () => {
        received();
        return { hang: true };
      },
    });
    const { sleeps, sleep } = recordingSleep();
    const backend = createOpenAiBackend(configFor(server), { sleep, serverKind: 'vllm' });
    const controller = new AbortController();
    const pending = backend.generate(request([candidate(1)]), controller.signal);
    await arrived;
    controller.abort();
    const error = await rejection(pending);
    expect(error.code).toBe('CANCELLED');
    expect(server.chatRequests()).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('cancels during a backoff wait without sending another attempt', async () => {
    const server = await mockServer({ chat: () => ({ status: 503, body: 'busy' }) });
    const controller = new AbortController();
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new Error('aborted')));
        controller.abort();
      });
    const backend = createOpenAiBackend(configFor(server), { sleep, serverKind: 'vllm' });
    const error = await rejection(backend.generate(request([candidate(1)]), controller.signal));
    expect(error.code).toBe('CANCELLED');
    expect(server.chatRequests()).toHaveLength(1);
  });

  it('rejects with CANCELLED before sending anything when the signal is already aborted', async () => {
    const server = await mockServer();
    const backend = createOpenAiBackend(configFor(server), { serverKind: 'vllm' });
    const error = await rejection(backend.generate(request([candidate(1)]), AbortSignal.abort()));
    expect(error.code).toBe('CANCELLED');
    expect(server.chatRequests()).toHaveLength(0);
  });
});

describe('createOpenAiBackend: malformed responses', () => {
  const cases: Array<{ name: string; body: unknown; issue: string; candidates: number }> = [
    { name: 'an HTML page', body: '<html><body>502 Bad Gateway (nginx)</body></html>', issue: 'not_json', candidates: 1 },
    { name: 'JSON without choices', body: { id: 'x', object: 'chat.completion' }, issue: 'missing_choices', candidates: 1 },
    { name: 'the wrong number of choices', body: chatCompletionBody(['only one']), issue: 'wrong_n', candidates: 2 },
    {
      name: 'a choice without message.content',
      body: { choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'stop' }] },
      issue: 'missing_content',
      candidates: 1,
    },
    {
      name: 'duplicate choice indices',
      body: { choices: [0, 0].map((index) => ({ index, message: { content: 'x' }, finish_reason: 'stop' })) },
      issue: 'wrong_n',
      candidates: 2,
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name} as BACKEND_MALFORMED_RESPONSE without retrying`, async () => {
      const server = await mockServer();
      server.script({ status: 200, body: c.body });
      const { sleeps, sleep } = recordingSleep();
      const backend = createOpenAiBackend(configFor(server), { sleep, seedMode: 'grouped', serverKind: 'vllm' });
      const error = await rejection(backend.generate(request(Array.from({ length: c.candidates }, () => candidate(3)))));
      expect(error.code).toBe('BACKEND_MALFORMED_RESPONSE');
      expect((error.details as { issue: string }).issue).toBe(c.issue);
      expect(server.chatRequests()).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });
  }

  it('maps finish reasons and keeps the raw text untouched', async () => {
    const server = await mockServer();
    server.script({ body: chatCompletionBody(['Verdict: 通过\nReason: 半截'], { finishReason: 'length' }) });
    const backend = createOpenAiBackend(configFor(server), { serverKind: 'vllm' });
    const [completion] = await backend.generate(request([candidate(1)]));
    expect(completion).toMatchObject({ text: 'Verdict: 通过\nReason: 半截', finishReason: 'length' });
  });
});

describe('createOpenAiBackend: concurrency', () => {
  it('never has more than `concurrency` requests in flight at the server', async () => {
    const server = await mockServer({ chat: (req) => ({ delayMs: 100, body: chatCompletionBody([`seed=${req.body.seed}`]) }) });
    const backend = createOpenAiBackend(configFor(server, { concurrency: 3 }), { serverKind: 'vllm' });
    const calls = Array.from({ length: 6 }, (_, g) => backend.generate(request([candidate(g * 10), candidate(g * 10 + 1)])));
    const results = await Promise.all(calls);
    expect(results.flat()).toHaveLength(12);
    expect(server.chatRequests()).toHaveLength(12);
    expect(server.maxConcurrent()).toBe(3);
  });
});

describe('createOpenAiBackend: guided decoding fields', () => {
  const gbnf: OutputConstraint = { kind: 'gbnf', grammar: 'root ::= "Verdict: " ("pass" | "fail")' };
  const schema: OutputConstraint = { kind: 'json_schema', schema: { type: 'object', properties: { ok: { type: 'boolean' } } } };
  const constraintKeys = ['guided_grammar', 'guided_json', 'structured_outputs', 'grammar', 'ebnf', 'response_format'];

  async function sentFields(mode: string, ownedBy: string | null, constraint: OutputConstraint): Promise<Record<string, unknown>> {
    const server = await mockServer({ ownedBy });
    const backend = createOpenAiBackend(configFor(server, { guided_decoding: mode }));
    await backend.generate(request([candidate(1)], constraint));
    const body = server.chatRequests()[0].body as Record<string, unknown>;
    return Object.fromEntries(Object.entries(body).filter(([key]) => constraintKeys.includes(key)));
  }

  it('vllm mode sends guided_grammar and structured_outputs.grammar for GBNF', async () => {
    expect(await sentFields('vllm', null, gbnf)).toEqual({ guided_grammar: gbnf.grammar, structured_outputs: { grammar: gbnf.grammar } });
  });
  it('auto mode on a vLLM server sends guided_json for a JSON schema', async () => {
    expect(await sentFields('auto', 'vllm', schema)).toEqual({ guided_json: schema.schema, structured_outputs: { json: schema.schema } });
  });
  it('auto mode on llama.cpp server sends grammar for GBNF and json_schema for a schema, on /completion', async () => {
    for (const [constraint, expected] of [
      [gbnf, { grammar: gbnf.grammar }],
      [schema, { json_schema: schema.schema }],
    ] as const) {
      const server = await mockServer({ ownedBy: 'llamacpp', routes: llamaRoutes() });
      const backend = createOpenAiBackend(configFor(server));
      await backend.generate(request([candidate(1)], constraint));
      const body = completionRequests(server)[0].body as Record<string, unknown>;
      expect(Object.fromEntries(Object.entries(body).filter(([key]) => [...constraintKeys, 'json_schema'].includes(key)))).toEqual(expected);
    }
  });
  it('auto mode on SGLang sends ebnf for GBNF', async () => {
    expect(await sentFields('auto', 'sglang', gbnf)).toEqual({ ebnf: gbnf.grammar });
  });
  it('response_format mode sends a strict json_schema response_format', async () => {
    expect(await sentFields('response_format', 'vllm', schema)).toEqual({
      response_format: { type: 'json_schema', json_schema: { name: 'stageb_output', schema: schema.schema, strict: true } },
    });
  });
  it('auto mode on an unknown server uses response_format for a JSON schema', async () => {
    expect(await sentFields('auto', null, schema)).toHaveProperty('response_format');
  });
  it("mode 'none' and constraint 'none' send no constraint fields", async () => {
    expect(await sentFields('none', 'vllm', gbnf)).toEqual({});
    expect(await sentFields('auto', 'vllm', { kind: 'none' })).toEqual({});
  });
});

describe('createOpenAiBackend: API key', () => {
  const secret = 'sk-test-5f0c1d2e3a4b';

  it('sends the key as a bearer token and never puts it in an error', async () => {
    const server = await mockServer({
      // A careless proxy that echoes the Authorization header back in its error page.
      chat: (req) => ({ status: 401, body: { error: `invalid key ${String(req.headers.authorization)}` } }),
    });
    const backend = createOpenAiBackend(configFor(server, { api_key_env: 'STAGEB_TEST_KEY' }), {
      env: { STAGEB_TEST_KEY: secret },
      serverKind: 'vllm',
    });
    const error = await rejection(backend.generate(request([candidate(1)])));
    expect(server.chatRequests()[0].headers.authorization).toBe(`Bearer ${secret}`);
    expect(error.code).toBe('BACKEND_HTTP');
    expect(error.message).toContain('[redacted]');
    expect(JSON.stringify({ message: error.message, details: error.details, formatted: error.format() })).not.toContain(secret);
  });

  it('sends no Authorization header when api_key_env is null', async () => {
    const server = await mockServer();
    const backend = createOpenAiBackend(configFor(server), { serverKind: 'vllm' });
    await backend.generate(request([candidate(1)]));
    expect(server.chatRequests()[0].headers.authorization).toBeUndefined();
  });

  it('fails with CONFIG_INVALID naming the variable when it is unset', () => {
    let caught: unknown;
    try {
      createOpenAiBackend(configFor({ baseUrl: 'http://127.0.0.1:9/v1' }, { api_key_env: 'STAGEB_MISSING_KEY' }), { env: {} });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StageBError);
    expect((caught as StageBError).code).toBe('CONFIG_INVALID');
    expect((caught as StageBError).message).toContain('STAGEB_MISSING_KEY');
  });
});

describe('createOpenAiBackend: token meter and counting', () => {
  it('counts evaluated prompt tokens net of cached tokens and unique prompts once', async () => {
    const server = await mockServer({
      chat: (req, index) => ({
        body: chatCompletionBody(Array.from({ length: req.body.n }, () => 'Verdict: pass'), {
          promptTokens: 120,
          completionTokens: 5 * req.body.n,
          cachedTokens: index === 0 ? 0 : 100,
        }),
      }),
    });
    const backend = createOpenAiBackend(configFor(server), { serverKind: 'vllm', seedMode: 'grouped' });
    await backend.generate(request([candidate(1), candidate(2)]));
    await backend.generate(request([candidate(3), candidate(4)]));
    const other = request([candidate(5)]);
    other.prompt = { system: 'You judge tickets.', userParts: ['G0: check ground.\n', 'ticket 8'] };
    await backend.generate(other);
    expect(backend.tokenMeter()).toEqual({
      promptTotal: 120 * 5,
      promptEvaluated: 120 + 20 + 20,
      promptUnique: 120 * 2,
      generated: 5 * 5,
    });
  });

  it('uses vLLM /tokenize at the server root for text and chat prompts', async () => {
    const server = await mockServer({
      ownedBy: 'vllm',
      routes: { '/tokenize': (req) => ({ body: { count: req.body.messages ? 77 : 42, max_model_len: 32768, tokens: [] } }) },
    });
    const backend = createOpenAiBackend(configFor(server));
    expect(await backend.countTextTokens('接地线')).toBe(42);
    expect(await backend.countPromptTokens(request([]).prompt)).toBe(77);
    const tokenizeBodies = server.requests.filter((r) => r.path === '/tokenize').map((r) => r.body);
    expect(tokenizeBodies[0]).toEqual({ model: 'mock-model', prompt: '接地线', add_special_tokens: false });
    expect(tokenizeBodies[1]).toMatchObject({ add_generation_prompt: true, messages: [{ role: 'system' }, { role: 'user' }] });
  });

  it('uses llama.cpp /apply-template then /tokenize for a chat prompt', async () => {
    const server = await mockServer({
      ownedBy: 'llamacpp',
      routes: {
        '/apply-template': (req) => ({ body: { prompt: `<|im_start|>system\n${req.body.messages[0].content}<|im_end|>` } }),
        '/tokenize': (req) => ({ body: { tokens: Array.from({ length: String(req.body.content).length }, (_, i) => i) } }),
      },
    });
    const backend = createOpenAiBackend(configFor(server));
    const expected = '<|im_start|>system\nYou judge tickets.<|im_end|>'.length;
    expect(await backend.countPromptTokens(request([]).prompt)).toBe(expected);
    expect(await backend.countTextTokens('abc')).toBe(3);
  });

  it('falls back to the documented estimate when the server has no tokenize endpoint, and stops asking', async () => {
    const server = await mockServer({ ownedBy: 'vllm' });
    const backend = createOpenAiBackend(configFor(server));
    const text = 'Verdict pass 接地线 2025';
    expect(await backend.countTextTokens(text)).toBe(estimateTextTokens(text));
    expect(await backend.countTextTokens(text)).toBe(estimateTextTokens(text));
    expect(server.requests.filter((r) => r.path === '/tokenize')).toHaveLength(1);
  });
});

describe('createOpenAiBackend: server probe', () => {
  it('asks /models once and lets a caller cancel while the probe hangs', async () => {
    let probes = 0;
    const server = await mockServer({
      routes: {
        '/v1/models': () => {
          probes++;
          return probes === 1 ? { hang: true } : { body: { data: [{ id: 'm', owned_by: 'vllm' }] } };
        },
      },
    });
    const backend = createOpenAiBackend(configFor(server, { timeout_ms: 60_000 }));
    const controller = new AbortController();
    const pending = backend.generate(request([candidate(1)]), controller.signal);
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const error = await rejection(pending);
    expect(error.code).toBe('CANCELLED');
    expect(server.chatRequests()).toHaveLength(0);
    await backend.close();
  });
});

describe('createOpenAiBackend: llama.cpp server native path', () => {
  it('renders the prompt once with /apply-template and sends the rendered text to /completion', async () => {
    const server = await mockServer({ ownedBy: 'llamacpp', routes: llamaRoutes() });
    const backend = createOpenAiBackend(configFor(server));
    const completions = await backend.generate(request([candidate(7, 0.8, 0.95, 40), candidate(8)], { kind: 'none' }, ['\n\n']));
    expect(server.requests.filter((r) => r.path === '/apply-template')).toHaveLength(1);
    const sent = completionRequests(server).find((r) => r.body.seed === 7)!.body;
    expect(sent).toMatchObject({
      prompt: '<|im_start|>system\nYou judge tickets.<|im_end|>\n<|im_start|>user\nG0: check ground.\nticket 7: 接地线完好<|im_end|>\n<|im_start|>assistant\n',
      n_predict: 40,
      temperature: 0.8,
      top_p: 0.95,
      stop: ['\n\n'],
    });
    expect(completions.map((c) => c.text)).toEqual(['seed=7', 'seed=8']);
    expect(completions[0]).toMatchObject({ finishReason: 'stop', promptTokens: 90, generatedTokens: 4 });
  });

  it("meters the server's own accounting: evaluated = prompt_n, reused = cache_n", async () => {
    const server = await mockServer({
      ownedBy: 'llamacpp',
      routes: llamaRoutes({
        completion: (_req, i) => ({
          body: { content: 'x', stop_type: 'limit', tokens_evaluated: 100, tokens_predicted: 3, timings: { prompt_n: i === 0 ? 100 : 1, cache_n: i === 0 ? 0 : 99, predicted_n: 3 } },
        }),
      }),
    });
    const backend = createOpenAiBackend(configFor(server, { concurrency: 1 }));
    const completions = await backend.generate(request([candidate(1), candidate(2), candidate(3)]));
    expect(completions.every((c) => c.finishReason === 'length')).toBe(true);
    expect(backend.tokenMeter()).toEqual({ promptTotal: 300, promptEvaluated: 100 + 1 + 1, promptUnique: 100, generated: 9 });
  });

  it('retries a 5xx from /completion like any request and reports a body without content as malformed', async () => {
    let calls = 0;
    const server = await mockServer({
      ownedBy: 'llamacpp',
      routes: llamaRoutes({
        completion: () => (++calls === 1 ? { status: 503, body: { error: 'loading' } } : { body: { error: 'no content here' } }),
      }),
    });
    const { sleeps, sleep } = recordingSleep();
    const backend = createOpenAiBackend(configFor(server), { sleep });
    const error = await rejection(backend.generate(request([candidate(1)])));
    expect(calls).toBe(2);
    expect(sleeps).toHaveLength(1);
    expect(error.code).toBe('BACKEND_MALFORMED_RESPONSE');
    expect((error.details as { issue: string }).issue).toBe('missing_content');
  });

  it("guided_decoding 'none' sends no grammar to /completion", async () => {
    const server = await mockServer({ ownedBy: 'llamacpp', routes: llamaRoutes() });
    const backend = createOpenAiBackend(configFor(server, { guided_decoding: 'none' }));
    await backend.generate(request([candidate(1)], { kind: 'gbnf', grammar: 'root ::= "a"' }));
    expect(completionRequests(server)[0].body).not.toHaveProperty('grammar');
  });
});
