import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { composeStageBRun } from '../../src/main/composeStageBRun';
import { ReflectionLogRecordSchema } from '../../src/shared/schemas/records';
import { RunEventSchema, TelemetrySchema, type RunEvent } from '../../src/shared/schemas/telemetry';
import { openScriptedWorkspace, scriptedModel, writeScriptedRunConfig, type ScriptedWorkspace } from '../helpers/scriptedRun';

/**
 * Warnings carry their reason: a group's warning says why its batch's reflection left the
 * guidance as it was (the decision's ineligible_reason), in the live events, in events.jsonl
 * and in telemetry's warnings list. The model is the deterministic HashScriptedBackend,
 * whose noisy verdicts give warnings.
 */
let workspace: ScriptedWorkspace;

beforeAll(async () => {
  workspace = await openScriptedWorkspace('stageb-warnings-');
});

afterAll(async () => {
  if (workspace) await fsp.rm(workspace.work, { recursive: true, force: true });
});

const readJsonl = async (file: string) => (await fsp.readFile(file, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line));

type Warning = Extract<RunEvent, { type: 'warning' }>;

it("a batch's warnings carry its reflection decision's reason, live, in events.jsonl and in telemetry", async () => {
  const { config, runDir } = await writeScriptedRunConfig(workspace, 'reasons', { epochs: 2 });
  const live: RunEvent[] = [];
  await composeStageBRun({ configPath: config, model: scriptedModel, onEvent: (e) => live.push(e) });
  const decisions = (await readJsonl(path.join(runDir, 'reflection.jsonl'))).map((row) => ReflectionLogRecordSchema.parse(row));
  const selections = await readJsonl(path.join(runDir, 'selections.jsonl'));
  const batchOf = new Map<string, string>(selections.map((row) => [`${row.epoch}:${row.group_id}`, `${row.epoch}:${row.batch_index}`]));
  const reasonOf = new Map(decisions.map((row) => [`${row.epoch}:${row.reflection.batch_index}`, row.reflection.applied ? null : row.reflection.ineligible_reason]));

  const stored = (await readJsonl(path.join(runDir, 'events.jsonl'))).map((e) => RunEventSchema.parse(e));
  for (const events of [live, stored]) {
    const warnings = events.filter((e): e is Warning => e.type === 'warning');
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.some((w) => w.ineligible_reason !== null)).toBe(true);
    // Each warning names a group; its epoch is that of the last guidance event (epochs shuffle groups into other batches).
    let epoch = -1;
    for (const event of events) {
      if (event.type === 'guidance') epoch = event.epoch;
      if (event.type !== 'warning') continue;
      const batch = batchOf.get(`${epoch}:${event.group_id}`)!;
      expect(event.ineligible_reason, `${event.group_id} ${event.code}`).toBe(reasonOf.get(batch));
    }
    // A batch's warnings come just before its reflection line, so the log reads warnings then decision.
    const reflectionAt = events.findIndex((e) => e.type === 'reflection');
    expect(events.slice(0, reflectionAt).some((e) => e.type === 'warning')).toBe(true);
  }

  const telemetry = TelemetrySchema.parse(JSON.parse(await fsp.readFile(path.join(runDir, 'telemetry.json'), 'utf8')));
  expect(telemetry.warnings).toHaveLength(telemetry.counts.warnings);
  expect(telemetry.warnings.length).toBeGreaterThan(0);
  for (const warning of telemetry.warnings) expect(warning.ineligible_reason).toBe(reasonOf.get(`${warning.epoch}:${warning.batch_index}`));
  expect(telemetry.warnings.some((w) => w.ineligible_reason !== null)).toBe(true);
});

it('with reflection off, every warning says reflection_disabled', async () => {
  const { config, runDir } = await writeScriptedRunConfig(workspace, 'disabled');
  await fsp.writeFile(config, (await fsp.readFile(config, 'utf8')).replace('  enabled: true', '  enabled: false'));
  const live: RunEvent[] = [];
  await composeStageBRun({ configPath: config, model: scriptedModel, onEvent: (e) => live.push(e) });
  const warnings = live.filter((e): e is Warning => e.type === 'warning');
  expect(warnings.length).toBeGreaterThan(0);
  expect(new Set(warnings.map((w) => w.ineligible_reason))).toEqual(new Set(['reflection_disabled']));
  const telemetry = TelemetrySchema.parse(JSON.parse(await fsp.readFile(path.join(runDir, 'telemetry.json'), 'utf8')));
  expect(new Set(telemetry.warnings.map((w) => w.ineligible_reason))).toEqual(new Set(['reflection_disabled']));
});
