import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StageBModelPort } from '../../src/main/composeStageBRun';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { GuidanceFileSchema } from '../../src/shared/schemas/guidance';
import { HashScriptedBackend } from '../fixtures/reliability/HashScriptedBackend';

/** The model port of runs without a model: the deterministic HashScriptedBackend (its verdicts are noise). */
export const scriptedModel: StageBModelPort = {
  countTokensBeforeLoad: async () => null,
  open: async (config) => new HashScriptedBackend({ seed: config.seed }),
  describe: async () => ({ model: { backend: 'scripted', path: null, fingerprint: null, name: 'hash-scripted' }, versions: { node: process.version } }),
};

export type ScriptedWorkspace = { work: string; demo: Awaited<ReturnType<typeof ensureDemoMission>>; mission: string };

/** A temp folder with the demo mission (23 tickets, seed 12) for scripted runs. */
export async function openScriptedWorkspace(prefix: string): Promise<ScriptedWorkspace> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  const demo = await ensureDemoMission(path.join(work, 'demo'), 23, 12);
  const mission = Object.keys(GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(demo.guidance, 'utf8'))))[0];
  return { work, demo, mission };
}

/**
 * A run config of the demo mission for the scripted model: batches of 4 groups, 2 candidates, 12 tickets,
 * reflection on with a third held out; `epochs` and `extra` YAML lines (appended at the top level) vary it.
 */
export async function writeScriptedRunConfig(
  workspace: ScriptedWorkspace,
  name: string,
  options: { epochs?: number; extra?: string[] } = {},
): Promise<{ config: string; runDir: string; runsRoot: string }> {
  const dir = path.join(workspace.work, name);
  await fsp.mkdir(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  await fsp.writeFile(config, [
    `run_name: ${name}`, 'seed: 7', `mission: ${workspace.mission}`,
    'stage_a_paths:', `  - ${JSON.stringify(workspace.demo.stageA)}`,
    'guidance:', `  path: ${JSON.stringify(workspace.demo.guidance)}`,
    'model:', '  backend: llama-cpp', '  path: /nonexistent/model.gguf',
    'sampler:', '  candidates: 2',
    'runner:', `  epochs: ${options.epochs ?? 1}`, '  batch_size: 4', '  max_tickets: 12',
    'reflection:', '  enabled: true', '  holdout_fraction: 0.34',
    'output:', '  root: ./out', '  parquet: false', ...(options.extra ?? []), '',
  ].join('\n'));
  return { config, runDir: path.join(dir, 'out', name, workspace.mission), runsRoot: path.join(dir, 'out') };
}
