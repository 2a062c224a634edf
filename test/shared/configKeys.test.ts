import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from '../../src/shared/schemas/runConfig';
import { listConfigKeys } from '../../src/shared/schemas/configKeys';

describe('config key documentation', () => {
  const keys = listConfigKeys(RunConfigSchema);

  it('lists nested keys of every backend and block', () => {
    const paths = keys.map((k) => k.path);
    expect(paths).toEqual(expect.arrayContaining(['run_name', 'model.backend', 'model.path', 'model.base_url', 'sampler.grid[].temperature', 'reflection.apply_if_delta', 'stage_b_distillation.output_path']));
  });

  it('every key has a description in the schema', () => {
    expect(keys.filter((k) => k.description.trim() === '').map((k) => k.path)).toEqual([]);
  });

  it('the README documents every config key', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = keys.map((k) => k.path).filter((path) => !readme.includes(`\`${path}\``));
    expect(missing).toEqual([]);
  });
});
