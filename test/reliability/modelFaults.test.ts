import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/main/llm/createBackend';
import { writeGguf } from '../../src/main/llm/gguf/ggufWriter';
import { readGgufHeader } from '../../src/main/llm/gguf/ggufHeader';
import { ggmlTensorBytes } from '../../src/main/llm/gguf/ggufFormat';
import { randomModelSpec } from '../../src/main/llm/tinyModel';
import { runStageB } from '../../src/main/runStageB';
import { readJsonl } from '../../src/main/io/jsonl';
import { StageBError } from '../../src/shared/errors';
import { LlamaCppModelSchema } from '../../src/shared/schemas/runConfig';
import { RunEventSchema, TelemetrySchema } from '../../src/shared/schemas/telemetry';
import { SelectionRecordSchema, TrajectoryRecordSchema } from '../../src/shared/schemas/records';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { ensureTinyModelForTests } from '../helpers/tinyModel';

/**
 * Model faults (issue §5): broken GGUF files give a typed error through createBackend
 * without aborting this (host) process; a prompt larger than the context is refused
 * with a typed error; in a run, a prompt over sampler.max_prompt_tokens is dropped and
 * reported, never truncated.
 */
let dir: string;
let tinyPath: string;
let tinyBytes: Buffer;
/** Where the last tensor's data ends; the file may carry alignment padding after it. */
let tinyDataEnd: number;
const counts: Record<string, number> = {};

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-model-faults-'));
  tinyPath = await ensureTinyModelForTests();
  tinyBytes = await fsp.readFile(tinyPath);
  const header = await readGgufHeader(tinyPath);
  tinyDataEnd = Math.max(...header.tensors.map((t) => Number(header.dataOffset + t.offset + ggmlTensorBytes(t.type, t.dims)!)));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
  console.log(`[modelFaults] cases: ${JSON.stringify(counts)}`);
});

const modelConfig = (p: string, overrides: Record<string, unknown> = {}) =>
  LlamaCppModelSchema.parse({ backend: 'llama-cpp', path: p, context_size: 512, sequences: 1, threads: 1, gpu: false, ...overrides });

async function failureOf(promise: Promise<unknown>): Promise<StageBError> {
  try {
    const value = await promise;
    await (value as { close?: () => Promise<void> })?.close?.();
  } catch (error) {
    expect(error).toBeInstanceOf(StageBError);
    return error as StageBError;
  }
  throw new Error('expected a failure');
}

describe('broken GGUF files', () => {
  const missingKeys = ['general.architecture', 'llama.context_length', 'llama.embedding_length', 'llama.block_count', 'llama.attention.head_count', 'llama.attention.layer_norm_rms_epsilon', 'tokenizer.ggml.tokens'];
  it.each(missingKeys)('missing %s → MODEL_INVALID_GGUF, process alive', async (key) => {
    const spec = randomModelSpec('tiny');
    expect(spec.metadata.has(key)).toBe(true);
    spec.metadata.delete(key);
    const file = path.join(dir, `missing-${key}.gguf`);
    await writeGguf(file, spec);
    const error = await failureOf(createBackend(modelConfig(file)));
    expect(['MODEL_INVALID_GGUF', 'MODEL_LOAD_FAILED']).toContain(error.code);
    expect(error.location.file).toBe(file);
    expect(process.pid).toBeGreaterThan(0); // still here: the native loader never saw a file that would abort it
    counts.missing_key = (counts.missing_key ?? 0) + 1;
  });

  const cuts: [string, (size: number) => number][] = [
    ['empty file', () => 0],
    ['magic only', () => 4],
    ['inside the metadata', () => 200],
    ['inside the tensor infos', (size) => Math.floor(Math.min(size / 2, 40_000))],
    ['inside the tensor data', (size) => size - 1000],
    ['last byte of the tensor data missing', () => tinyDataEnd - 1],
  ];
  it.each(cuts)('truncated (%s) → MODEL_INVALID_GGUF, process alive', async (name, cutAt) => {
    const file = path.join(dir, `truncated-${name.replace(/\W+/g, '-')}.gguf`);
    await fsp.writeFile(file, tinyBytes.subarray(0, cutAt(tinyBytes.length)));
    const error = await failureOf(createBackend(modelConfig(file)));
    expect(error.code).toBe('MODEL_INVALID_GGUF');
    expect(error.location.file).toBe(file);
    counts.truncated = (counts.truncated ?? 0) + 1;
  });

  it.each([
    ['random bytes', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) & 0xff))],
    ['a text file', () => Buffer.from('not a model\n'.repeat(100))],
    ['GGUF magic, garbage after', () => Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(4096, 0xff)])],
    ['GGUF version 99', () => Buffer.concat([Buffer.from('GGUF'), Buffer.from([99, 0, 0, 0]), tinyBytes.subarray(8)])],
  ])('garbage (%s) → MODEL_INVALID_GGUF, process alive', async (name, make) => {
    const file = path.join(dir, `garbage-${name.replace(/\W+/g, '-')}.gguf`);
    await fsp.writeFile(file, make());
    const error = await failureOf(createBackend(modelConfig(file)));
    expect(error.code).toBe('MODEL_INVALID_GGUF');
    counts.garbage = (counts.garbage ?? 0) + 1;
  });

  it('a directory or a missing path → MODEL_NOT_FOUND / MODEL_INVALID_GGUF', async () => {
    expect((await failureOf(createBackend(modelConfig(path.join(dir, 'nope.gguf'))))).code).toBe('MODEL_NOT_FOUND');
    expect(['MODEL_INVALID_GGUF', 'MODEL_NOT_FOUND']).toContain((await failureOf(createBackend(modelConfig(dir)))).code);
    counts.not_a_file = 2;
  });

  it('after all of the above, this process still loads and runs the real model', async () => {
    const backend = await createBackend(modelConfig(tinyPath));
    try {
      const [completion] = await backend.generate({ prompt: { system: 's', userParts: ['接地线'] }, candidates: [{ temperature: 0, top_p: 1, seed: 1, max_new_tokens: 4, prompt_variant: 'default' }], constraint: { kind: 'none' } });
      expect(completion.generatedTokens).toBeGreaterThan(0);
    } finally {
      await backend.close();
    }
  });
});

describe('context overflow', () => {
  it('a prompt larger than context_size is refused with a typed error before evaluation', async () => {
    const backend = await createBackend(modelConfig(tinyPath, { context_size: 256 }));
    try {
      const before = backend.tokenMeter();
      const error = await failureOf(backend.generate({ prompt: { system: 's', userParts: ['接地线松动'.repeat(200)] }, candidates: [{ temperature: 0, top_p: 1, seed: 1, max_new_tokens: 8, prompt_variant: 'default' }], constraint: { kind: 'none' } }));
      expect(['PROMPT_OVER_BUDGET', 'MODEL_CONTEXT_OVERFLOW']).toContain(error.code);
      expect(error.message).toMatch(/\d+/);
      expect(backend.tokenMeter()).toEqual(before);
      counts.context_overflow = 1;
    } finally {
      await backend.close();
    }
  });
});

describe('a prompt over budget in a run', () => {
  it('is dropped and reported (selection warning, no trajectories, warning event, telemetry count), never truncated', async () => {
    const demo = await ensureDemoMission(path.join(dir, 'demo'), 23, 6);
    const lines = (await fsp.readFile(demo.stageA, 'utf8')).trim().split('\n');
    const huge = JSON.parse(lines[0]) as { group_id: string; per_image: Record<string, string> };
    huge.group_id = 'HUGE-0001';
    huge.per_image = { image_1: '接地线/已连接,线径合规×1，'.repeat(400) };
    const stageA = path.join(dir, 'over-budget.stage_a.jsonl');
    await fsp.writeFile(stageA, [...lines, JSON.stringify(huge)].join('\n') + '\n');
    const mission = Object.keys(JSON.parse(await fsp.readFile(demo.guidance, 'utf8')))[0];
    const config = path.join(dir, 'over-budget.yaml');
    await fsp.writeFile(
      config,
      [
        'run_name: over-budget',
        'seed: 3',
        `mission: ${mission}`,
        `stage_a_paths: [${JSON.stringify(stageA)}]`,
        `guidance: { path: ${JSON.stringify(demo.guidance)}, max_tokens: 4096 }`,
        `model: { backend: llama-cpp, path: ${JSON.stringify(tinyPath)}, context_size: 8192, threads: 1, sequences: 2, gpu: false }`,
        'sampler: { candidates: 2, max_new_tokens: 32, max_reason_chars: 10, max_prompt_tokens: 4000 }',
        'runner: { epochs: 1, batch_size: 4 }',
        'reflection: { enabled: false }',
        `output: { root: ${JSON.stringify(path.join(dir, 'runs'))}, parquet: false }`,
        'stage_b_distillation: { enabled: false }',
        '',
      ].join('\n'),
    );
    const result = await runStageB({ configPath: config });
    expect(result.status).toBe('completed');
    const selections = (await readJsonl(path.join(result.runDir, 'selections.jsonl'), SelectionRecordSchema)).rows;
    const trajectories = (await readJsonl(path.join(result.runDir, 'trajectories.jsonl'), TrajectoryRecordSchema)).rows;
    const events = (await readJsonl(path.join(result.runDir, 'events.jsonl'), RunEventSchema)).rows;
    const telemetry = TelemetrySchema.parse(JSON.parse(await fsp.readFile(path.join(result.runDir, 'telemetry.json'), 'utf8')));
    const dropped = selections.filter((row) => row.group_id === 'HUGE-0001');
    expect(dropped).toHaveLength(1);
    expect(dropped[0].warnings).toContain('prompt_over_budget');
    expect(dropped[0].verdict).toBeNull();
    expect(trajectories.filter((row) => row.group_id === 'HUGE-0001')).toEqual([]);
    const warnings = events.filter((event) => event.type === 'warning' && event.group_id === 'HUGE-0001');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'prompt_over_budget' });
    expect((warnings[0] as { message: string }).message).toMatch(/over the budget of 4000/);
    expect(telemetry.counts.dropped_over_budget).toBe(1);
    // The other tickets ran normally.
    expect(selections.filter((row) => row.group_id !== 'HUGE-0001' && row.verdict === null && row.vote.malformed === 0)).toEqual([]);
    expect(trajectories.length).toBe((selections.length - 1) * 2);
    counts.dropped_over_budget_run = 1;
  });
});
