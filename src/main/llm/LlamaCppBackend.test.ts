import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModelForTests } from '../../../test/helpers/tinyModel';
import { StageBError } from '../../shared/errors';
import { LlamaCppModelSchema, type LlamaCppModelConfig } from '../../shared/schemas/runConfig';
import type { DecodeParams } from '../../shared/schemas/decode';
import { parseVerdictResponse, verdictGrammar } from '../../shared/verdictProtocol';
import { writeGguf } from './gguf/ggufWriter';
import { createLlamaCppBackend, type LlamaCppBackend } from './LlamaCppBackend';
import type { PromptSegments } from './LlmBackend';
import { randomModelSpec } from './tinyModel';

let modelPath: string;
let backend: LlamaCppBackend;
let dir: string;

function config(overrides: Partial<LlamaCppModelConfig> = {}): LlamaCppModelConfig {
  // One thread: vitest runs two workers on two cores, and ggml threads spin at barriers.
  return LlamaCppModelSchema.parse({ backend: 'llama-cpp', path: modelPath, gpu: false, context_size: 1024, sequences: 2, threads: 1, ...overrides });
}

const prompt: PromptSegments = {
  system: '你是通信工程质检员。',
  userParts: ['经验:\nG0: BBU 必须有接地线。\nG1: 接地线需固定。\n', '工单: 照片显示 BBU 接地线已连接并固定。'],
};

const decode = (seed: number, overrides: Partial<DecodeParams> = {}): DecodeParams => ({
  temperature: 0.8,
  top_p: 0.95,
  seed,
  max_new_tokens: 160,
  prompt_variant: 'default',
  ...overrides,
});

async function thrown(promise: Promise<unknown>): Promise<StageBError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(StageBError);
  return error as StageBError;
}

beforeAll(async () => {
  modelPath = await ensureTinyModelForTests();
  dir = await mkdtemp(join(tmpdir(), 'stageb-llama-'));
  backend = await createLlamaCppBackend(config());
});

afterAll(async () => {
  await backend?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('LlamaCppBackend on the tiny model', () => {
  it('loads the model and renders the ChatML template with the assistant turn open', async () => {
    expect(backend.info).toMatchObject({ backend: 'llama-cpp', modelPath, gpu: false });
    expect(backend.info.contextSize).toBeGreaterThanOrEqual(1024);
    // gpu: false resolves to llama.cpp's CPU backend, with no devices, from the binary's own release.
    expect(backend.info.runtime?.compute).toEqual({ backend: 'cpu', devices: [], build: 'prebuilt' });
    expect(backend.info.runtime?.llamaCppRelease).toMatch(/\S/);
    const text = backend.renderPromptText(prompt);
    expect(text).toBe(
      `<|im_start|>system\n${prompt.system}<|im_end|>\n<|im_start|>user\n${prompt.userParts.join('')}<|im_end|>\n<|im_start|>assistant\n`,
    );
    expect(await backend.countTextTokens('abc')).toBe(3);
    expect(await backend.countTextTokens('通过')).toBe(6); // byte-level vocab: one token per UTF-8 byte
    expect(await backend.countPromptTokens(prompt)).toBe(backend.renderPromptTokens(prompt).length);
  });

  it.each(['three_line', 'two_line'] as const)('every %s grammar-constrained completion parses as a verdict', async (format) => {
    const completions = await backend.generate({
      prompt,
      candidates: [decode(1), decode(2), decode(3)],
      constraint: { kind: 'gbnf', grammar: verdictGrammar(format, 16) },
    });
    expect(completions).toHaveLength(3);
    for (const completion of completions) {
      const parsed = parseVerdictResponse(completion.text, format);
      expect(parsed.ok, `${completion.text} (${completion.finishReason})`).toBe(true);
      expect(completion.finishReason).toBe('stop');
      expect(completion.generatedTokens).toBeGreaterThan(0);
    }
  });

  it('a JSON-schema constraint yields JSON matching the schema', async () => {
    const schema = {
      type: 'object',
      properties: { verdict: { enum: ['pass', 'fail'] }, confidence: { type: 'number' } },
      required: ['verdict', 'confidence'],
    };
    const completions = await backend.generate({ prompt, candidates: [decode(4), decode(5)], constraint: { kind: 'json_schema', schema } });
    for (const completion of completions) {
      const value = JSON.parse(completion.text) as { verdict: string; confidence: number };
      expect(['pass', 'fail']).toContain(value.verdict);
      expect(typeof value.confidence).toBe('number');
      expect(Object.keys(value).sort()).toEqual(['confidence', 'verdict']);
    }
  });

  it('the same seed and params give the same text; different seeds differ', async () => {
    const request = (seed: number) => backend.generate({ prompt, candidates: [decode(seed, { temperature: 1, max_new_tokens: 24 })], constraint: { kind: 'none' } });
    const [a] = await request(11);
    const [b] = await request(11);
    expect(b.text).toBe(a.text);
    const others = await Promise.all([12, 13, 14].map(async (seed) => (await request(seed))[0].text));
    expect(others.some((text) => text !== a.text)).toBe(true);
  });

  it('meters tokens: a repeated prompt does not re-evaluate its prefix', async () => {
    const before = backend.tokenMeter();
    const promptTokens = await backend.countPromptTokens(prompt);
    const candidates = [decode(21, { max_new_tokens: 8 }), decode(22, { max_new_tokens: 8 })];
    await backend.generate({ prompt, candidates, constraint: { kind: 'none' } });
    const mid = backend.tokenMeter();
    await backend.generate({ prompt, candidates, constraint: { kind: 'none' } });
    const after = backend.tokenMeter();
    expect(after.promptTotal - mid.promptTotal).toBe(2 * promptTokens);
    expect(after.promptEvaluated - mid.promptEvaluated).toBeLessThanOrEqual(2 * 2); // at most the last token per candidate
    expect(after.promptUnique).toBe(before.promptUnique); // this prompt was seen by earlier tests
    expect(after.generated).toBeGreaterThan(mid.generated);
    // A new ticket sharing the experiences block evaluates only what differs.
    const other: PromptSegments = { ...prompt, userParts: [prompt.userParts[0], '工单: 接地线缺失。'] };
    await backend.generate({ prompt: other, candidates: [decode(23, { max_new_tokens: 4 })], constraint: { kind: 'none' } });
    const last = backend.tokenMeter();
    const otherTokens = await backend.countPromptTokens(other);
    expect(last.promptEvaluated - after.promptEvaluated).toBeLessThan(otherTokens / 2);
    expect(last.promptUnique - after.promptUnique).toBeLessThan(otherTokens / 2);
    expect(last.promptUnique - after.promptUnique).toBeGreaterThan(0);
    for (const m of [mid, after, last]) {
      expect(m.promptEvaluated).toBeLessThanOrEqual(m.promptTotal);
      expect(m.promptUnique).toBeLessThanOrEqual(m.promptTotal);
    }
  });

  it('serves more concurrent requests than sequences', async () => {
    const prompts = [0, 1, 2, 3].map((i) => ({ ...prompt, userParts: [prompt.userParts[0], `工单 ${i}`] }));
    const results = await Promise.all(prompts.map((p, i) => backend.generate({ prompt: p, candidates: [decode(30 + i, { max_new_tokens: 6 })], constraint: { kind: 'none' } })));
    expect(results.map((r) => r.length)).toEqual([1, 1, 1, 1]);
  });

  it('refuses a prompt over budget before evaluating it', async () => {
    const before = backend.tokenMeter();
    const big: PromptSegments = { system: 's', userParts: ['x'.repeat(backend.info.contextSize - 100)] };
    const error = await thrown(backend.generate({ prompt: big, candidates: [decode(1, { max_new_tokens: 200 })], constraint: { kind: 'none' } }));
    expect(error.code).toBe('PROMPT_OVER_BUDGET');
    expect(backend.tokenMeter()).toEqual(before);
  });

  it('generates from a prompt in the last tenth of the context without cutting or re-evaluating it', async () => {
    // node-llama-cpp's default fit keeps a tenth of the context free even with context shift disabled.
    const contextSize = backend.info.contextSize;
    const sized = (n: number): PromptSegments => ({ system: 's', userParts: ['x'.repeat(n)] });
    const overhead = (await backend.countPromptTokens(sized(100))) - 100;
    const long = sized(contextSize - 12 - overhead);
    const promptTokens = await backend.countPromptTokens(long);
    expect(promptTokens).toBeGreaterThan(contextSize - Math.floor(contextSize / 10));
    const before = backend.tokenMeter();
    const [completion] = await backend.generate({ prompt: long, candidates: [decode(41, { max_new_tokens: 8 })], constraint: { kind: 'none' } });
    expect(completion.promptTokens).toBe(promptTokens);
    expect(completion.generatedTokens).toBeGreaterThan(0);
    const after = backend.tokenMeter();
    expect(after.promptEvaluated - before.promptEvaluated).toBeLessThanOrEqual(promptTokens);
  });

  it('cancels generation on abort', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await thrown(backend.generate({ prompt, candidates: [decode(1)], constraint: { kind: 'none' } }, controller.signal));
    expect(error.code).toBe('CANCELLED');
  });
});

describe('createLlamaCppBackend file checks', () => {
  it('refuses a GGUF with a missing hyperparameter without crashing the process', async () => {
    const spec = randomModelSpec('tiny');
    spec.metadata.delete('llama.attention.head_count');
    const path = join(dir, 'broken.gguf');
    await writeGguf(path, spec);
    const error = await thrown(createLlamaCppBackend(config({ path })));
    expect(error.code).toBe('MODEL_INVALID_GGUF');
    expect(error.location).toMatchObject({ file: path, field: 'llama.attention.head_count' });
  });

  it('reports a missing model as MODEL_NOT_FOUND naming the path, and writes nothing there (it only loads models)', async () => {
    const missing = join(dir, 'auto', 'tiny.gguf');
    const error = await thrown(createLlamaCppBackend(config({ path: missing })));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.location).toMatchObject({ file: missing });
    await expect(stat(join(dir, 'auto'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a KV cache larger than all memory before node-llama-cpp sizes it (MODEL_OUT_OF_MEMORY, no allocation)', async () => {
    // 256 bytes per token: 2^31 tokens x 4 sequences = 2 TiB, which no test machine has.
    const error = await thrown(createLlamaCppBackend(config({ path: modelPath, context_size: 2 ** 31, sequences: 4 })));
    expect(error.code).toBe('MODEL_OUT_OF_MEMORY');
    expect(error.location).toEqual({ file: modelPath });
    expect(error.message).toContain('cannot create a context of 2147483648 tokens x 4 sequences: its KV cache alone needs 2048.0 GiB (256 bytes per token per sequence)');
    expect(error.message).toMatch(/lower model\.context_size or model\.sequences/);
  });

  it('counts both contexts\' KV caches with model.overlap_prompts', async () => {
    const error = await thrown(createLlamaCppBackend(config({ path: modelPath, context_size: 2 ** 30, sequences: 4, overlap_prompts: true })));
    expect(error.code).toBe('MODEL_OUT_OF_MEMORY');
    expect(error.message).toContain('cannot create two contexts (model.overlap_prompts) of 1073741824 tokens x 4 sequences: its KV cache alone needs 2048.0 GiB');
  });

  it('loads a copy of the fixture at another path', async () => {
    await copyFile(modelPath, join(dir, 'copy.gguf'));
    const copy = await createLlamaCppBackend(config({ path: join(dir, 'copy.gguf'), sequences: 1 }));
    expect(copy.info.modelPath).toBe(join(dir, 'copy.gguf'));
    await copy.close();
  });
});
