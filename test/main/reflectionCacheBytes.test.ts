import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { composeStageBRun } from '../../src/main/composeStageBRun';
import { TelemetrySchema } from '../../src/shared/schemas/telemetry';
import { openScriptedWorkspace, scriptedModel, writeScriptedRunConfig, type ScriptedWorkspace } from '../helpers/scriptedRun';

/**
 * Two fresh identical runs (same config, same seed, the deterministic scripted model) leave
 * byte-identical reflection caches even though their clocks differ: a cache file carries no
 * wall-clock time, so what a decision cached says only what it was made from.
 */
let workspace: ScriptedWorkspace;

beforeAll(async () => {
  workspace = await openScriptedWorkspace('stageb-cache-bytes-');
});

afterAll(async () => {
  if (workspace) await fsp.rm(workspace.work, { recursive: true, force: true });
});

/** A clock that starts at `start` and moves one second per reading. */
function clockFrom(start: string): () => string {
  let t = Date.parse(start);
  return () => new Date((t += 1000)).toISOString();
}

async function cacheFiles(runDir: string): Promise<Map<string, Buffer>> {
  const dir = path.join(runDir, 'reflection_cache');
  const files = new Map<string, Buffer>();
  for (const name of (await fsp.readdir(dir)).sort()) files.set(name, await fsp.readFile(path.join(dir, name)));
  return files;
}

it('two fresh identical runs with different clocks leave byte-identical reflection_cache files', async () => {
  // The gate is opened so that plans are applied: the apply intent, the gate and later stages built on applied guidance are compared too.
  const gateOpen = ['  min_uplift_probability: 0', '  apply_unchanged_verdicts: true', '  allow_holdout_without_fail: true'];
  const template = await writeScriptedRunConfig(workspace, 'same', { epochs: 2 });
  const text = (await fsp.readFile(template.config, 'utf8')).replace('  holdout_fraction: 0.34\n', `  holdout_fraction: 0.34\n${gateOpen.join('\n')}\n`);
  const runs: { files: Map<string, Buffer>; applied: number }[] = [];
  for (const [folder, start] of [['fresh-a', '2026-01-01T00:00:00.000Z'], ['fresh-b', '2026-07-15T12:34:56.789Z']] as const) {
    // The same config file (same run_name) in two fresh folders.
    const config = path.join(workspace.work, folder, 'config.yaml');
    await fsp.mkdir(path.dirname(config), { recursive: true });
    await fsp.writeFile(config, text);
    const runDir = path.join(path.dirname(config), path.relative(path.dirname(template.config), template.runDir));
    await composeStageBRun({ configPath: config, model: scriptedModel, now: clockFrom(start) });
    const telemetry = TelemetrySchema.parse(JSON.parse(await fsp.readFile(path.join(runDir, 'telemetry.json'), 'utf8')));
    runs.push({ files: await cacheFiles(runDir), applied: telemetry.counts.reflections.applied });
  }
  const [a, b] = runs;
  expect(a.applied).toBeGreaterThan(0);
  expect(a.files.size).toBeGreaterThan(0);
  expect([...b.files.keys()]).toEqual([...a.files.keys()]);
  // Every stage kind is compared, the apply intent and the holdout baselines included.
  const kinds = new Set([...a.files.keys()].map((name) => name.replace(/^epoch\d+_cycle\d+_/, '').replace(/_[0-9a-f]+\.json$/, '').replace(/\.json$/, '')));
  for (const kind of ['summary', 'critique', 'batch_update', 'gate', 'apply', 'holdout_baseline']) expect(kinds).toContain(kind);
  for (const [name, bytes] of a.files) {
    const other = b.files.get(name)!;
    // The text first, for a readable diff; then the bytes themselves.
    expect({ name, text: other?.toString('utf8') }).toEqual({ name, text: bytes.toString('utf8') });
    expect(other.equals(bytes)).toBe(true);
  }
});
