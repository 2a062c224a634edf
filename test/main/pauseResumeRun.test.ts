import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { composeStageBRun } from '../../src/main/composeStageBRun';
import { PausableRunControl } from '../../src/main/engine/ports/RunControl';
import { TelemetrySchema, type RunEvent } from '../../src/shared/schemas/telemetry';
import { openScriptedWorkspace, scriptedModel, writeScriptedRunConfig, type ScriptedWorkspace } from '../helpers/scriptedRun';

/**
 * Pause and resume at batch boundaries, as the workbench drives them, with the deterministic
 * scripted model: the run waits between batches, writes `paused` / `resumed` to events.jsonl,
 * and ends with exactly the artifacts of a run nobody paused.
 */
let workspace: ScriptedWorkspace;

beforeAll(async () => {
  workspace = await openScriptedWorkspace('stageb-pause-');
});
afterAll(async () => {
  if (workspace) await fsp.rm(workspace.work, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The same config (run name, inputs, seed) in its own folder, so the two runs differ only in where they write. */
async function twinConfigs(name: string) {
  const first = await writeScriptedRunConfig(workspace, `${name}`, { epochs: 2 });
  const twinDir = path.join(workspace.work, `${name}-twin`);
  await fsp.mkdir(twinDir, { recursive: true });
  const twinConfig = path.join(twinDir, 'config.yaml');
  await fsp.copyFile(first.config, twinConfig);
  const folder: [string, string] = [twinDir, path.dirname(first.config)];
  return { plain: first, paused: { config: twinConfig, runDir: path.join(twinDir, 'out', name, workspace.mission) }, folder };
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
    const relative = path.posix.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path.join(dir, entry.name), relative)));
    else out.push(relative);
  }
  return out.sort();
}

const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;
/**
 * Fields that measure the wall clock or the process, not what the run computed, and the config's
 * hash (it covers the resolved output folder, which is where the twins differ).
 */
const CLOCK_FIELDS = new Set(['timings_ms', 'tokens_per_second', 'eta_ms', 'host', 'pid', 'hostname', 'config_hash']);

function withoutClock(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutClock);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([key]) => !CLOCK_FIELDS.has(key)).map(([key, inner]) => [key, withoutClock(inner)]));
  }
  return typeof value === 'string' ? value.replace(ISO_TIME, '<time>') : value;
}

/**
 * A file's content with timestamps masked and the run's own folder named alike (`folder` is what
 * the twin's folder reads as); events.jsonl without the pause's own two events.
 */
async function comparable(runDir: string, file: string, folder: [string, string] | null = null): Promise<string> {
  const raw = await fsp.readFile(path.join(runDir, file), 'utf8');
  const text = folder ? raw.split(folder[0]).join(folder[1]) : raw;
  if (file.endsWith('.jsonl')) {
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type?: string })
      .filter((row) => !(file === 'events.jsonl' && (row.type === 'paused' || row.type === 'resumed')))
      .map((row) => JSON.stringify(withoutClock(row))).join('\n');
  }
  if (file.endsWith('.json')) return JSON.stringify(withoutClock(JSON.parse(text)));
  return text.replace(ISO_TIME, '<time>');
}

describe('pause and resume at batch boundaries', () => {
  it('waits at the next batch boundary and ends with the same artifacts as an uninterrupted run', { timeout: 120_000 }, async () => {
    const { plain, paused, folder } = await twinConfigs('pause-twin');
    await composeStageBRun({ configPath: plain.config, model: scriptedModel });

    // The wall clock jumps an hour while the run is paused: none of it may count as run time.
    const HOUR = 3_600_000;
    let skew = 0;
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);

    const control = new PausableRunControl();
    const seen: RunEvent[] = [];
    let pauses = 0;
    await composeStageBRun({
      configPath: paused.config,
      model: scriptedModel,
      control,
      onEvent: (event) => {
        seen.push(event);
        // Asked during the first batch of each epoch: the engine finishes it and its reflection first.
        if (event.type === 'guidance' && event.batch_index === 0) {
          control.pause();
          expect(control.state).toBe('pausing');
        }
        if (event.type === 'paused') {
          pauses++;
          expect(control.state).toBe('paused');
          skew += HOUR;
          setImmediate(() => control.resume());
        }
      },
    });

    // Each pause came after its batch's reflection and before the next batch's guidance, and resumed there.
    const types = seen.map((e) => e.type === 'paused' || e.type === 'resumed' || e.type === 'reflection' || e.type === 'guidance' ? `${e.type}:${'epoch' in e ? e.epoch : ''}:${'batch_index' in e ? e.batch_index : ''}` : null).filter(Boolean);
    expect(pauses).toBe(2);
    for (const epoch of [0, 1]) {
      const at = types.indexOf(`paused:${epoch}:1`);
      expect(at, types.join(' ')).toBeGreaterThan(0);
      expect(types[at - 1]).toBe(`reflection:${epoch}:0`);
      expect(types[at + 1]).toBe(`resumed:${epoch}:1`);
      expect(types[at + 2]).toBe(`guidance:${epoch}:1`);
    }
    const resumedEvents = seen.filter((e): e is Extract<RunEvent, { type: 'resumed' }> => e.type === 'resumed');
    for (const event of resumedEvents) expect(event.paused_ms).toBeGreaterThanOrEqual(HOUR);

    // events.jsonl records them.
    const events = (await fsp.readFile(path.join(paused.runDir, 'events.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(events.filter((e) => e.type === 'paused').map((e) => [e.epoch, e.batch_index, e.batches])).toEqual([[0, 1, 2], [1, 1, 2]]);
    expect(events.filter((e) => e.type === 'resumed')).toHaveLength(2);

    // Two hours paused, none of it run time: not in the timings, not in the rate.
    const telemetry = TelemetrySchema.parse(JSON.parse(await fsp.readFile(path.join(paused.runDir, 'telemetry.json'), 'utf8')));
    expect(telemetry.status).toBe('completed');
    expect(telemetry.timings_ms.total).toBeLessThan(HOUR);
    expect(telemetry.timings_ms.rollout).toBeLessThan(HOUR);
    const lastProgress = seen.filter((e): e is Extract<RunEvent, { type: 'progress' }> => e.type === 'progress').at(-1)!;
    expect(lastProgress.groups_done).toBe(lastProgress.groups_total);
    expect(lastProgress.tokens_per_second).toBeGreaterThan(telemetry.tokens.generated / ((2 * HOUR) / 1000));

    // The same files, the same bytes but for timestamps and clock readings.
    const files = await listFiles(plain.runDir);
    expect(await listFiles(paused.runDir)).toEqual(files);
    expect(files).toEqual(expect.arrayContaining(['selections.jsonl', 'trajectories.jsonl', 'reflection.jsonl', 'guidance.json', 'events.jsonl', 'telemetry.json']));
    for (const file of files) {
      expect(await comparable(paused.runDir, file, folder), file).toBe(await comparable(plain.runDir, file));
    }
  });

  it('ends cancelled, finished_at set, when cancelled while paused; a later run resumes it to the same selections', { timeout: 120_000 }, async () => {
    const { plain, paused } = await twinConfigs('pause-cancel');
    await composeStageBRun({ configPath: plain.config, model: scriptedModel });
    const abort = new AbortController();
    const control = new PausableRunControl({ signal: abort.signal });
    await expect(
      composeStageBRun({
        configPath: paused.config,
        model: scriptedModel,
        control,
        signal: abort.signal,
        onEvent: (event) => {
          if (event.type === 'guidance' && event.epoch === 0 && event.batch_index === 0) control.pause();
          if (event.type === 'paused') setImmediate(() => abort.abort());
        },
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    const telemetry = TelemetrySchema.parse(JSON.parse(await fsp.readFile(path.join(paused.runDir, 'telemetry.json'), 'utf8')));
    expect(telemetry.status).toBe('cancelled');
    expect(telemetry.finished_at).not.toBeNull();
    expect(telemetry.error?.code).toBe('CANCELLED');
    const events = (await fsp.readFile(path.join(paused.runDir, 'events.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(events.map((e) => e.type)).toContain('paused');
    expect(events.map((e) => e.type)).not.toContain('resumed');

    await composeStageBRun({ configPath: paused.config, model: scriptedModel });
    expect(await comparable(paused.runDir, 'selections.jsonl')).toBe(await comparable(plain.runDir, 'selections.jsonl'));
  });
});
