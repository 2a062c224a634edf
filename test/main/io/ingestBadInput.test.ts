import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { StageBError } from '../../../src/shared/errors';
import { ingestStageA } from '../../../src/main/io/ingestStageA';
import { loadInitialGuidance, utf8ByteTokenCount } from '../../../src/main/io/loadInitialGuidance';
import { loadRunConfig, parseRunConfigText } from '../../../src/main/io/loadRunConfig';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'bad-input-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const ok = (groupId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ group_id: groupId, mission: 'M', label: 'pass', per_image: { image_1: '接地线/已连接×1' }, ...extra });

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await fsp.writeFile(file, text);
  return file;
}

async function caught(promise: Promise<unknown> | (() => unknown)): Promise<StageBError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(StageBError);
    return error as StageBError;
  }
  throw new Error('expected a StageBError');
}

describe('Stage-A input errors', () => {
  it('missing file → INPUT_NOT_FOUND naming the file', async () => {
    const file = path.join(dir, 'absent.jsonl');
    const error = await caught(ingestStageA({ paths: [file], mission: 'M' }));
    expect(error.code).toBe('INPUT_NOT_FOUND');
    expect(error.location).toEqual({ file });
  });

  it('malformed JSON line → INPUT_MALFORMED_JSON with its line', async () => {
    const file = await write('malformed.jsonl', [ok('A'), '{"group_id": "B",', ok('C')].join('\n') + '\n');
    const error = await caught(ingestStageA({ paths: [file], mission: 'M' }));
    expect(error.code).toBe('INPUT_MALFORMED_JSON');
    expect(error.location).toEqual({ file, line: 2, field: undefined });
    expect(error.format()).toContain(`${file}:2`);
  });

  it('missing field → INPUT_INVALID_FIELD naming the field', async () => {
    const file = await write('missing.jsonl', [ok('A'), JSON.stringify({ group_id: 'B', mission: 'M', label: 'pass' })].join('\n') + '\n');
    const error = await caught(ingestStageA({ paths: [file], mission: 'M' }));
    expect(error.code).toBe('INPUT_INVALID_FIELD');
    expect(error.location).toEqual({ file, line: 2, field: 'per_image' });
  });

  it('ill-typed field → INPUT_INVALID_FIELD with the nested zod path', async () => {
    const file = await write('typed.jsonl', [ok('A'), ok('B'), ok('C', { per_image: { image_1: 'x×1', image_2: 42 } })].join('\n') + '\n');
    const error = await caught(ingestStageA({ paths: [file], mission: 'M' }));
    expect(error.code).toBe('INPUT_INVALID_FIELD');
    expect(error.location).toEqual({ file, line: 3, field: 'per_image.image_2' });
  });

  it('bad per_image key → INPUT_INVALID_FIELD naming the key and its rule, location printed once', async () => {
    const file = await write('key.jsonl', ok('A', { per_image: { img1: 'x×1' } }) + '\n');
    const error = await caught(ingestStageA({ paths: [file], mission: 'M' }));
    expect(error.code).toBe('INPUT_INVALID_FIELD');
    expect(error.location).toEqual({ file, line: 1, field: 'per_image.img1' });
    expect(error.message).toContain('image_1');
    expect(error.format().split(file)).toHaveLength(2);
  });

  it('unknown label → INPUT_INVALID_FIELD on label', async () => {
    const file = await write('label.jsonl', ok('A', { label: 'maybe' }) + '\n');
    const error = await caught(ingestStageA({ paths: [file], mission: 'M' }));
    expect(error.code).toBe('INPUT_INVALID_FIELD');
    expect(error.location).toEqual({ file, line: 1, field: 'label' });
  });

  it('mission mismatch → INPUT_MISSION_MISMATCH on field mission', async () => {
    const file = await write('mission.jsonl', [ok('A'), ok('B', { mission: '挡风板安装检查' })].join('\n') + '\n');
    const error = await caught(ingestStageA({ paths: [file], mission: 'M' }));
    expect(error.code).toBe('INPUT_MISSION_MISMATCH');
    expect(error.location).toEqual({ file, line: 2, field: 'mission' });
    expect(error.message).toContain('挡风板安装检查');
  });

  it('empty input → INPUT_EMPTY', async () => {
    const file = await write('empty.jsonl', '\n\n');
    const error = await caught(ingestStageA({ paths: [file], mission: 'M' }));
    expect(error.code).toBe('INPUT_EMPTY');
    expect(error.location.file).toBe(file);
  });

  it('duplicate ticket_key across files → INPUT_INVALID_FIELD on group_id naming both places', async () => {
    const first = await write('dup1.jsonl', ok('A') + '\n');
    const second = await write('dup2.jsonl', [ok('A', { label: 'fail' }), ok('A', { label: '通过' })].join('\n') + '\n');
    const error = await caught(ingestStageA({ paths: [first, second], mission: 'M' }));
    expect(error.code).toBe('INPUT_INVALID_FIELD');
    expect(error.location).toEqual({ file: second, line: 2, field: 'group_id' });
    expect(error.message).toContain(`${first}:1`);
  });

  it('collects up to 20 errors in details, first one in the message', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? ok(`G${i}`, { mission: 'other' }) : 'nope'));
    const file = await write('many.jsonl', lines.join('\n') + '\n');
    const error = await caught(ingestStageA({ paths: [file], mission: 'M' }));
    expect(error.code).toBe('INPUT_MISSION_MISMATCH');
    const details = error.details as { code: string; line: number }[];
    expect(details).toHaveLength(20);
    expect(details[1]).toMatchObject({ code: 'INPUT_MALFORMED_JSON', line: 2 });
  });
});

const guidance = (state: unknown) => JSON.stringify({ M: state }, null, 2);
const budget = { countTokens: utf8ByteTokenCount, maxTokens: 200 };
const validState = { step: 0, updated_at: '2025-01-01T00:00:00Z', experiences: { G0: '检查接地线。', G1: '接地线未连接则不通过。' }, metadata: {} };

describe('guidance errors', () => {
  it('loads a valid guidance state', async () => {
    const file = await write('g-ok.json', guidance(validState));
    const state = await loadInitialGuidance(file, 'M', budget);
    expect(state.experiences.G1).toBe('接地线未连接则不通过。');
  });

  it('missing file → GUIDANCE_NOT_FOUND', async () => {
    const file = path.join(dir, 'g-absent.json');
    const error = await caught(loadInitialGuidance(file, 'M', budget));
    expect(error.code).toBe('GUIDANCE_NOT_FOUND');
    expect(error.location.file).toBe(file);
  });

  it('mission missing from the file → GUIDANCE_INVALID with the mission as field', async () => {
    const file = await write('g-other.json', JSON.stringify({ Other: validState }));
    const error = await caught(loadInitialGuidance(file, 'M', budget));
    expect(error.code).toBe('GUIDANCE_INVALID');
    expect(error.location).toEqual({ file, field: 'M' });
  });

  it('missing step → GUIDANCE_INVALID naming the field', async () => {
    const { step: _step, ...noStep } = validState;
    const file = await write('g-nostep.json', guidance(noStep));
    const error = await caught(loadInitialGuidance(file, 'M', budget));
    expect(error.code).toBe('GUIDANCE_INVALID');
    expect(error.location).toEqual({ file, field: 'M.step' });
  });

  it('bad experience key → GUIDANCE_INVALID', async () => {
    const file = await write('g-key.json', guidance({ ...validState, experiences: { G0: 'a', rule: 'b' } }));
    const error = await caught(loadInitialGuidance(file, 'M', budget));
    expect(error.code).toBe('GUIDANCE_INVALID');
    expect(error.location.field).toMatch(/^M\.experiences/);
  });

  it('invalid JSON → GUIDANCE_INVALID with a line', async () => {
    const file = await write('g-json.json', '{\n  "M": {\n    "step": 0,\n  }\n}\n');
    const error = await caught(loadInitialGuidance(file, 'M', budget));
    expect(error.code).toBe('GUIDANCE_INVALID');
    expect(error.location.line).toBe(4);
  });

  it('empty experiences → GUIDANCE_EMPTY_EXPERIENCES', async () => {
    const file = await write('g-empty.json', guidance({ ...validState, experiences: {} }));
    const error = await caught(loadInitialGuidance(file, 'M', budget));
    expect(error.code).toBe('GUIDANCE_EMPTY_EXPERIENCES');
    expect(error.location).toEqual({ file, field: 'M.experiences' });
  });

  it('experiences over the token budget → GUIDANCE_OVER_BUDGET with the counts', async () => {
    const file = await write('g-big.json', guidance({ ...validState, experiences: { G0: '检'.repeat(100) } }));
    const error = await caught(loadInitialGuidance(file, 'M', { countTokens: utf8ByteTokenCount, maxTokens: 200 }));
    expect(error.code).toBe('GUIDANCE_OVER_BUDGET');
    expect(error.details).toEqual({ tokens: Buffer.byteLength(`[G0]. ${'检'.repeat(100)}`), maxTokens: 200 });
    // The same file fits a larger budget, and the callback decides what a token is.
    await expect(loadInitialGuidance(file, 'M', { countTokens: (t) => t.length, maxTokens: 200 })).resolves.toBeDefined();
  });
});

const baseConfig = `run_name: t
mission: M
stage_a_paths:
  - a.jsonl
guidance:
  path: g.json
model:
  backend: llama-cpp
  path: m.gguf
`;

describe('config errors', () => {
  it('missing config file → CONFIG_NOT_FOUND', async () => {
    const file = path.join(dir, 'absent.yaml');
    const error = await caught(loadRunConfig(file));
    expect(error.code).toBe('CONFIG_NOT_FOUND');
    expect(error.location.file).toBe(file);
  });

  it('YAML syntax error → CONFIG_INVALID with its line', async () => {
    const error = await caught(() => parseRunConfigText(baseConfig + 'sampler:\n  grid: [\n  candidates: 2\n', 'c.yaml'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location.file).toBe('c.yaml');
    expect(error.location.line).toBeGreaterThanOrEqual(11);
  });

  it('ill-typed nested value → CONFIG_INVALID at the key line', async () => {
    const text = baseConfig + 'sampler:\n  candidates: 4\n  grid:\n    - temperature: 0.7\n      top_p: 2\n';
    const error = await caught(() => parseRunConfigText(text, 'c.yaml'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location).toEqual({ file: 'c.yaml', line: 14, field: 'sampler.grid[0].top_p' });
  });

  it('unknown key → CONFIG_INVALID at that key', async () => {
    const text = baseConfig.replace('  path: m.gguf\n', '  path: m.gguf\n  gpu_layerz: 3\n');
    const error = await caught(() => parseRunConfigText(text, 'c.yaml'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location).toEqual({ file: 'c.yaml', line: 10, field: 'model.gpu_layerz' });
  });

  it('missing key → CONFIG_INVALID at the parent line', async () => {
    const text = baseConfig.replace('  path: g.json\n', '  max_tokens: 100\n');
    const error = await caught(() => parseRunConfigText(text, 'c.yaml'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location).toEqual({ file: 'c.yaml', line: 5, field: 'guidance.path' });
  });

  it('wrong backend → CONFIG_INVALID at model.backend', async () => {
    const text = baseConfig.replace('backend: llama-cpp', 'backend: llamacpp');
    const error = await caught(() => parseRunConfigText(text, 'c.yaml'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location.field).toBe('model.backend');
    expect(error.location.line).toBe(8);
  });

  it('duplicate key and empty file → CONFIG_INVALID', async () => {
    const dup = await caught(() => parseRunConfigText(baseConfig + 'mission: N\n', 'c.yaml'));
    expect(dup.code).toBe('CONFIG_INVALID');
    expect(dup.location.line).toBe(10);
    const empty = await caught(() => parseRunConfigText('# nothing\n', 'c.yaml'));
    expect(empty.code).toBe('CONFIG_INVALID');
  });

  it('resolves relative paths against the config folder', async () => {
    const sub = path.join(dir, 'cfg');
    await fsp.mkdir(sub, { recursive: true });
    const file = path.join(sub, 'run.yaml');
    await fsp.writeFile(file, baseConfig + 'output:\n  root: ../runs\nstage_b_distillation:\n  output_path: out/d.jsonl\n');
    const { config, configDir, raw } = await loadRunConfig(file);
    expect(configDir).toBe(sub);
    expect(config.stage_a_paths).toEqual([path.join(sub, 'a.jsonl')]);
    expect(config.guidance.path).toBe(path.join(sub, 'g.json'));
    expect(config.model.backend === 'llama-cpp' && config.model.path).toBe(path.join(sub, 'm.gguf'));
    expect(config.output.root).toBe(path.join(dir, 'runs'));
    expect(config.stage_b_distillation.output_path).toBe(path.join(sub, 'out/d.jsonl'));
    expect((raw as { guidance: { path: string } }).guidance.path).toBe('g.json');
  });
});
