import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeStageBRun, validateStageBRun, type StageBModelPort } from '../../src/main/composeStageBRun';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { GuidanceFileSchema } from '../../src/shared/schemas/guidance';
import { RunManifestSchema } from '../../src/shared/schemas/telemetry';
import { renderExperiences } from '../../src/shared/guidance/renderExperiences';
import { HashScriptedBackend } from '../fixtures/reliability/HashScriptedBackend';

let work: string;
let demo: Awaited<ReturnType<typeof ensureDemoMission>>;
let mission: string;
let experiencesBytes: number;

beforeAll(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-compose-'));
  demo = await ensureDemoMission(path.join(work, 'demo'), 23, 12);
  const file = GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(demo.guidance, 'utf8')));
  mission = Object.keys(file)[0];
  experiencesBytes = Buffer.byteLength(renderExperiences(file[mission].experiences), 'utf8');
});

afterAll(async () => {
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

async function writeConfig(name: string, maxTokens: number): Promise<{ config: string; runDir: string }> {
  const dir = path.join(work, name);
  await fsp.mkdir(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  await fsp.writeFile(
    config,
    [
      `run_name: ${name}`,
      'seed: 7',
      `mission: ${mission}`,
      'stage_a_paths:',
      `  - ${JSON.stringify(demo.stageA)}`,
      'guidance:',
      `  path: ${JSON.stringify(demo.guidance)}`,
      `  max_tokens: ${maxTokens}`,
      'model:',
      '  backend: llama-cpp',
      '  path: /nonexistent/model.gguf',
      'sampler:',
      '  candidates: 2',
      'runner:',
      '  epochs: 1',
      '  batch_size: 4',
      '  max_tickets: 8',
      'reflection:',
      '  enabled: false',
      'output:',
      '  root: ./out',
      '  parquet: false',
      '',
    ].join('\n'),
  );
  return { config, runDir: path.join(dir, 'out', name, mission) };
}

/** A scripted model that records what the composition asked of it. */
function scriptedModel(preLoadCount: number | null) {
  const calls = { preLoad: [] as string[], opened: 0, closed: 0 };
  const model: StageBModelPort = {
    countTokensBeforeLoad: async (_config, text) => (calls.preLoad.push(text), preLoadCount),
    open: async (config) => {
      calls.opened++;
      const backend = new HashScriptedBackend({ seed: config.seed });
      const close = backend.close.bind(backend);
      backend.close = async () => (calls.closed++, close());
      return backend;
    },
    describe: async () => ({ model: { backend: 'scripted', path: null, fingerprint: null, name: 'hash-scripted' }, versions: { node: process.version } }),
  };
  return { model, calls };
}

const exists = (file: string) => fsp.stat(file).then(() => true, () => false);

describe('composeStageBRun', () => {
  it('asks the pre-load counter only when the byte count is over budget, and enforces its count', async () => {
    const within = await writeConfig('within', experiencesBytes);
    const a = scriptedModel(0);
    await validateStageBRun(within.config, a.model.countTokensBeforeLoad);
    expect(a.calls.preLoad).toEqual([]);

    const over = await writeConfig('over', experiencesBytes - 1);
    const b = scriptedModel(experiencesBytes);
    await expect(composeStageBRun({ configPath: over.config, model: b.model })).rejects.toMatchObject({ code: 'GUIDANCE_OVER_BUDGET' });
    expect(b.calls.preLoad).toHaveLength(1);
    expect(b.calls.opened).toBe(0);
    expect(await exists(over.runDir)).toBe(false);
  });

  it('checks the budget with the open backend when the counter cannot count, before writing anything', async () => {
    // HashScriptedBackend counts one token per character, fewer than the UTF-8 bytes of Chinese text.
    const { config, runDir } = await writeConfig('after-open', experiencesBytes - 1);
    const uncounted = scriptedModel(null);
    const result = await composeStageBRun({ configPath: config, model: uncounted.model });
    expect(result.status).toBe('completed');
    expect(uncounted.calls.preLoad).toHaveLength(1);

    const tight = await writeConfig('tight', 10);
    const refused = scriptedModel(null);
    await expect(composeStageBRun({ configPath: tight.config, model: refused.model })).rejects.toMatchObject({ code: 'GUIDANCE_OVER_BUDGET' });
    expect(refused.calls).toMatchObject({ opened: 1, closed: 1 });
    expect(await exists(tight.runDir)).toBe(false);
    expect(await exists(runDir)).toBe(true);
  });

  it('writes the manifest from the model port and leaves a completed run as it is', async () => {
    const { config, runDir } = await writeConfig('complete', 100_000);
    const first = scriptedModel(null);
    const result = await composeStageBRun({ configPath: config, model: first.model });
    expect(result).toMatchObject({ status: 'completed', alreadyComplete: false, runDir });
    expect(first.calls).toMatchObject({ opened: 1, closed: 1 });
    const manifest = RunManifestSchema.parse(JSON.parse(await fsp.readFile(path.join(runDir, 'run.json'), 'utf8')));
    expect(manifest.model).toEqual({ backend: 'scripted', path: null, fingerprint: null, name: 'hash-scripted' });
    expect(manifest.inputs.map((input) => input.path)).toEqual([demo.stageA]);
    const before = await fsp.readFile(path.join(runDir, 'selections.jsonl'), 'utf8');

    const again = scriptedModel(null);
    const rerun = await composeStageBRun({ configPath: config, model: again.model });
    expect(rerun).toMatchObject({ status: 'completed', alreadyComplete: true, runDir });
    expect(rerun.telemetry).toEqual(result.telemetry);
    expect(again.calls.opened).toBe(0);
    expect(await fsp.readFile(path.join(runDir, 'selections.jsonl'), 'utf8')).toBe(before);
  });
});
