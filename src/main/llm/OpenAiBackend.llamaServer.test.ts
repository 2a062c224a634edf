import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAiBackend } from './OpenAiBackend';
import { ensureTinyModel } from './tinyModel';
import { OpenAiModelSchema } from '../../shared/schemas/runConfig';
import { parseVerdictResponse, verdictGrammar } from '../../shared/verdictProtocol';
import type { DecodeParams } from '../../shared/schemas/decode';
import type { GenerateRequest } from './LlmBackend';
import { StageBError } from '../../shared/errors';
import { llamaServerForTests, startLlamaServer, type LlamaServer } from '../../../test/helpers/llamaServer';

/**
 * The openai backend against a real llama.cpp server running the project's tiny
 * random-weight GGUF. CI builds the server (scripts/build-llama-server.sh) and this
 * file fails there without it; elsewhere it skips with a message.
 */
const llamaServer = llamaServerForTests('openai backend vs llama-server');

const candidate = (seed: number): DecodeParams => ({ seed, temperature: 0.8, top_p: 0.95, max_new_tokens: 256, prompt_variant: 'default' });

const verdictRequest = (seeds: number[]): GenerateRequest => ({
  prompt: { system: 'You review telecom installation photos.', userParts: ['G0: BBU must be grounded.\n', 'Ticket: 接地线完好, 标签清晰.'] },
  candidates: seeds.map(candidate),
  constraint: { kind: 'gbnf', grammar: verdictGrammar('three_line', 40) },
});

describe.skipIf(!llamaServer)('openai backend against a real llama-server', () => {
  let server: LlamaServer;

  beforeAll(async () => {
    const model = await ensureTinyModel(join(tmpdir(), 'stageb-tests', 'tiny-llama-server.gguf'));
    server = await startLlamaServer({ binary: llamaServer!, model, parallel: 2 });
  });

  afterAll(async () => {
    await server?.stop();
  });

  const backendFor = (concurrency = 2, overrides: Record<string, unknown> = {}) =>
    createOpenAiBackend(
      OpenAiModelSchema.parse({ backend: 'openai', base_url: server.baseUrl, model: 'tiny', concurrency, context_size: 2048, ...overrides }),
    );

  it('generates grammar-constrained verdicts with real token counts', async () => {
    const backend = backendFor();
    const completions = await backend.generate(verdictRequest([11, 22, 33]));
    expect(completions).toHaveLength(3);
    for (const completion of completions) {
      expect(completion.finishReason).toBe('stop');
      expect(parseVerdictResponse(completion.text).ok).toBe(true);
      expect(completion.promptTokens).toBeGreaterThan(0);
      expect(completion.generatedTokens).toBeGreaterThan(0);
    }
    const meter = backend.tokenMeter();
    expect(meter.generated).toBe(completions.reduce((sum, c) => sum + c.generatedTokens, 0));
    expect(meter.promptTotal).toBe(3 * completions[0].promptTokens);
    expect(meter.promptUnique).toBe(completions[0].promptTokens);
  });

  it('reproduces a candidate from its seed, and another seed gives another sample', async () => {
    const backend = backendFor(1);
    const [first] = await backend.generate(verdictRequest([777]));
    const [again] = await backend.generate(verdictRequest([777]));
    const [other] = await backend.generate(verdictRequest([778]));
    expect(again.text).toBe(first.text);
    expect(other.text).not.toBe(first.text);
    // The repeated prompt is served from llama.cpp's prompt cache.
    const meter = backend.tokenMeter();
    expect(meter.promptEvaluated).toBeLessThan(meter.promptTotal);
  });

  it("counts tokens with the server's tokenizer, not the estimate", async () => {
    const backend = backendFor();
    // The tiny model's vocabulary is bytes without merges: 3 CJK characters are 9 tokens (the estimate says 3).
    expect(await backend.countTextTokens('接地线')).toBe(9);
    const promptTokens = await backend.countPromptTokens(verdictRequest([]).prompt);
    const [completion] = await backend.generate(verdictRequest([5]));
    expect(promptTokens).toBe(completion.promptTokens);
  });

  it('answers a JSON-schema request with raw JSON text (the chat endpoint answered HTTP 500 here)', async () => {
    const backend = backendFor();
    const schema = { type: 'object', properties: { summary: { type: 'string', maxLength: 24 } }, required: ['summary'], additionalProperties: false };
    const completions = await backend.generate({
      prompt: { system: 'Answer in JSON.', userParts: ['Summarise: 接地线完好.'] },
      candidates: [1, 2, 3, 4, 5, 6].map((seed) => ({ ...candidate(seed), max_new_tokens: 200 })),
      constraint: { kind: 'json_schema', schema },
    });
    for (const completion of completions) {
      expect(completion.finishReason).toBe('stop');
      const parsed = JSON.parse(completion.text) as Record<string, unknown>;
      expect(Object.keys(parsed)).toEqual(['summary']);
      expect(typeof parsed.summary).toBe('string');
    }
  });

  it('gives up on an attempt after timeout_ms with BACKEND_TIMEOUT, and the server serves the next request', async () => {
    const slow = backendFor(1, { timeout_ms: 1, max_retries: 0 });
    const long: GenerateRequest = { ...verdictRequest([1]), constraint: { kind: 'none' }, candidates: [{ ...candidate(1), max_new_tokens: 1500 }] };
    const error = await slow.generate(long).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StageBError);
    expect((error as StageBError).code).toBe('BACKEND_TIMEOUT');
    const [after] = await backendFor().generate(verdictRequest([2]));
    expect(parseVerdictResponse(after.text).ok).toBe(true);
  });

  it('cancels a request in flight with CANCELLED, and the server serves the next request', async () => {
    const backend = backendFor(1);
    const controller = new AbortController();
    const long: GenerateRequest = { ...verdictRequest([3]), constraint: { kind: 'none' }, candidates: [{ ...candidate(3), max_new_tokens: 1500 }] };
    const pending = backend.generate(long, controller.signal);
    setTimeout(() => controller.abort(), 30);
    const error = await pending.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StageBError);
    expect((error as StageBError).code).toBe('CANCELLED');
    const [after] = await backend.generate(verdictRequest([4]));
    expect(parseVerdictResponse(after.text).ok).toBe(true);
  });
});
