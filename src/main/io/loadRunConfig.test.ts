import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { StageBError } from '../../shared/errors';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRunConfig, parseRunConfigText } from './loadRunConfig';

const minimal = {
  run_name: 'fuzz',
  mission: 'M',
  stage_a_paths: ['a.jsonl'],
  guidance: { path: 'g.json' },
  model: { backend: 'llama-cpp', path: 'm.gguf' },
};

function outcome(text: string): 'ok' | 'config_invalid' {
  try {
    parseRunConfigText(text, 'fuzz.yaml');
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(StageBError);
    const stageB = error as StageBError;
    expect(stageB.code).toBe('CONFIG_INVALID');
    expect(stageB.location.file).toBe('fuzz.yaml');
    if (stageB.location.line !== undefined) {
      expect(stageB.location.line).toBeGreaterThanOrEqual(1);
      expect(stageB.location.line).toBeLessThanOrEqual(text.split('\n').length + 1);
    }
    return 'config_invalid';
  }
}

describe('parseRunConfigText', () => {
  it('applies defaults to a minimal config', () => {
    const { config } = parseRunConfigText(stringify(minimal), 'min.yaml');
    expect(config.seed).toBe(17);
    expect(config.sampler.candidates).toBe(4);
    expect(config.output.root).toBe('runs');
  });

  it('only ever fails with CONFIG_INVALID and a line inside the text, on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => void outcome(text)), { numRuns: 300 });
  });

  it('only ever fails with CONFIG_INVALID on structurally mutated configs', () => {
    const mutated = fc.record({
      key: fc.constantFrom('run_name', 'seed', 'mission', 'stage_a_paths', 'guidance', 'model', 'sampler', 'bogus'),
      value: fc.oneof(fc.jsonValue(), fc.constant(undefined)),
    });
    fc.assert(
      fc.property(fc.array(mutated, { maxLength: 4 }), (mutations) => {
        const value: Record<string, unknown> = structuredClone(minimal);
        for (const { key, value: v } of mutations) {
          if (v === undefined) delete value[key];
          else value[key] = v;
        }
        const result = outcome(stringify(value));
        if (mutations.length === 0) expect(result).toBe('ok');
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a config file that is not valid UTF-8 with CONFIG_INVALID naming file, line and byte offset', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'config-utf8-'));
    try {
      const file = path.join(dir, 'run.yaml');
      const head = 'run_name: r\nmission: 接地\n';
      await fsp.writeFile(file, Buffer.concat([Buffer.from(head), Buffer.from('stage_a_paths: [a'), Buffer.from([0xff]), Buffer.from('.jsonl]\n')]));
      const error = await loadRunConfig(file).then(() => null, (e: unknown) => e as StageBError);
      expect(error).toBeInstanceOf(StageBError);
      expect(error!.code).toBe('CONFIG_INVALID');
      expect(error!.location).toEqual({ file, line: 3 });
      expect(error!.message).toContain(`byte offset ${Buffer.byteLength(head) + 17}`);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
