import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashConfig, runDirectoryOf } from '../composeStageBRun';
import { FsArtifactStore } from '../io/FsArtifactStore';
import { RunConfigSchema } from '../../shared/schemas/runConfig';
import { setAsideStaleDemoRun } from './setAsideStaleDemoRun';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function setup() {
  dir = await mkdtemp(join(tmpdir(), 'stageb-demo-aside-'));
  const config = RunConfigSchema.parse({
    run_name: 'demo',
    mission: 'M',
    stage_a_paths: [join(dir, 'a.jsonl')],
    guidance: { path: join(dir, 'g.json') },
    model: { backend: 'llama-cpp', path: join(dir, 'm.gguf') },
    output: { root: join(dir, 'runs') },
  });
  const writeManifest = async (configHash: string) => {
    const store = new FsArtifactStore(runDirectoryOf(config));
    await store.ensureDir();
    await store.writeManifest({
      run_name: 'demo', mission: 'M', seed: 1, config: {}, config_hash: configHash,
      model: { backend: 'llama-cpp', path: null, fingerprint: null, name: null }, versions: {}, inputs: [], created_at: '2026-01-01T00:00:00Z',
    });
  };
  return { config, writeManifest };
}

describe('setAsideStaleDemoRun', () => {
  it('moves a demo run made with another config next to itself, keeping its files', async () => {
    const { config, writeManifest } = await setup();
    await writeManifest('0123456789abcdef');
    const moved = await setAsideStaleDemoRun(config);
    expect(moved).toBe(`${runDirectoryOf(config)}.previous-0123456789ab`);
    expect(JSON.parse(await readFile(join(moved!, 'run.json'), 'utf8')).config_hash).toBe('0123456789abcdef');
    expect(await readdir(join(dir, 'runs', 'demo'))).toEqual(['M.previous-0123456789ab']);
    // A second stale run does not overwrite the first one set aside.
    await writeManifest('0123456789abcdef');
    const again = await setAsideStaleDemoRun(config);
    expect(again).not.toBe(moved);
    expect((await readdir(join(dir, 'runs', 'demo'))).length).toBe(2);
  });

  it('leaves a run of the same config, or no run, where it is', async () => {
    const { config, writeManifest } = await setup();
    expect(await setAsideStaleDemoRun(config)).toBeNull();
    await writeManifest(hashConfig(config));
    expect(await setAsideStaleDemoRun(config)).toBeNull();
    expect(await readdir(join(dir, 'runs', 'demo'))).toEqual(['M']);
  });
});
