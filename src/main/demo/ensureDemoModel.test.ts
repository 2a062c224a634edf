import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageBError } from '../../shared/errors';
import { ModelConfigSchema } from '../../shared/schemas/runConfig';
import { checkGgufFile, ggufMetadataValue } from '../llm/gguf/ggufHeader';
import { ensureDemoModel } from './ensureDemoModel';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stageb-demo-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('ensureDemoModel (stageb demo, before the run)', () => {
  it("writes the tiny model at the config's model file where nothing is, once", async () => {
    const path = join(dir, 'models', 'tiny.gguf');
    const model = ModelConfigSchema.parse({ backend: 'llama-cpp', path });
    expect(await ensureDemoModel(model)).toEqual({ path, written: true });
    const { header } = await checkGgufFile(path);
    expect(ggufMetadataValue(header, 'general.name')).toBe('stageb-random-tiny');
    const first = await sha(path);
    expect(await ensureDemoModel(model)).toEqual({ path, written: false });
    expect(await sha(path)).toBe(first);
  });

  it('refuses a file that is not a model, naming it, and leaves it as it was', async () => {
    const path = join(dir, 'notes.gguf');
    await writeFile(path, 'my notes, not a model');
    const error = await ensureDemoModel(ModelConfigSchema.parse({ backend: 'llama-cpp', path })).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StageBError);
    expect((error as StageBError).code).toBe('MODEL_INVALID_GGUF');
    expect((error as StageBError).location).toMatchObject({ file: path, field: 'model.path' });
    expect(await readFile(path, 'utf8')).toBe('my notes, not a model');
  });

  it('writes nothing for a model on a server', async () => {
    expect(await ensureDemoModel(ModelConfigSchema.parse({ backend: 'openai', base_url: 'http://127.0.0.1:9/v1', model: 'm' }))).toBeNull();
    await expect(stat(join(dir, 'm'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
