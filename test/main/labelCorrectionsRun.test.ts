import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { composeStageBRun, hashConfig, validateStageBRun } from '../../src/main/composeStageBRun';
import { canonicalJson } from '../../src/shared/guidance/canonicalJson';
import { main } from '../../src/main/cli';
import type { CliIo } from '../../src/main/cli/CliIo';
import { appendQaReviews } from '../../src/main/io/qaReviewsFile';
import { ExportRowSchema, SelectionRecordSchema, TrajectoryRecordSchema } from '../../src/shared/schemas/records';
import { LabelCorrectionSchema } from '../../src/shared/schemas/labelCorrections';
import { StageBError } from '../../src/shared/errors';
import { openScriptedWorkspace, scriptedModel, writeScriptedRunConfig, type ScriptedWorkspace } from '../helpers/scriptedRun';
import { createWorkbenchApi } from '../../src/main/api/createWorkbenchApi';
import { dispatchApiCall } from '../../src/main/api/dispatchApiCall';
import { parseRunConfigText } from '../../src/main/io/loadRunConfig';

/**
 * The label-noise loop end to end: a run, QA reviews marking labels wrong, the
 * corrections file `stageb reviews corrections` writes, and a second run that names it
 * in label_corrections.path and so trains on the corrected labels, every record of a
 * corrected ticket carrying the input's label as original_label. The model is the
 * deterministic HashScriptedBackend (its verdicts are noise; only the labels matter here).
 */
let work: string;
let workspace: ScriptedWorkspace;
let mission: string;
const scripted = scriptedModel;

const silent: CliIo = { stdout: { write: () => true }, stderr: { write: () => true } };

beforeAll(async () => {
  workspace = await openScriptedWorkspace('stageb-corrections-');
  ({ work, mission } = workspace);
});
afterAll(async () => {
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

const writeConfig = (name: string, extra: string[] = []) => writeScriptedRunConfig(workspace, name, { extra });

async function rows<T>(file: string, parse: (value: unknown) => T): Promise<T[]> {
  return (await fsp.readFile(file, 'utf8')).trimEnd().split('\n').map((line) => parse(JSON.parse(line)));
}

describe('label corrections close the loop', () => {
  it('a second run with label_corrections trains on the corrected labels and keeps the original in every record', async () => {
    const first = await writeConfig('first');
    await composeStageBRun({ configPath: first.config, model: scripted });
    const firstSelections = await rows(path.join(first.runDir, 'selections.jsonl'), (v) => SelectionRecordSchema.parse(v));
    expect(firstSelections.every((row) => row.original_label === null)).toBe(true);
    const reviewed = firstSelections.filter((row) => row.label !== null).slice(0, 4);
    expect(reviewed.length).toBe(4);
    await appendQaReviews(first.runDir, reviewed.map((row, i) => ({
      review_id: `r${i}`, group_id: row.group_id, ticket_key: row.ticket_key, epoch: row.epoch, status: 'label_wrong', note: `错标 ${i}`, reviewer: 'qa1', created_at: `2026-01-01T00:00:0${i}.000Z`,
    })));

    const correctionsFile = path.join(work, 'corrections.jsonl');
    expect(await main(['reviews', 'corrections', '--run', path.dirname(first.runDir), '--out', correctionsFile], silent)).toBe(0);
    const corrections = await rows(correctionsFile, (v) => LabelCorrectionSchema.parse(v));
    expect(corrections.map((row) => [row.ticket_key, row.original_label, row.corrected_label])).toEqual(
      reviewed.map((row) => [row.ticket_key, row.label, row.label === 'pass' ? 'fail' : 'pass']),
    );

    const second = await writeConfig('second', ['label_corrections:', `  path: ${JSON.stringify(correctionsFile)}`]);
    await composeStageBRun({ configPath: second.config, model: scripted });
    const corrected = new Map(corrections.map((row) => [row.ticket_key, row]));
    const selections = await rows(path.join(second.runDir, 'selections.jsonl'), (v) => SelectionRecordSchema.parse(v));
    const trajectories = await rows(path.join(second.runDir, 'trajectories.jsonl'), (v) => TrajectoryRecordSchema.parse(v));
    const exported = await rows(path.join(second.runDir, 'export', 'verdicts.jsonl'), (v) => ExportRowSchema.parse(v));
    // The holdout split follows the corrected labels, so a corrected ticket may be held out; most train.
    const trained = selections.filter((row) => corrected.has(row.ticket_key));
    expect(trained.length).toBeGreaterThan(0);
    for (const row of [...selections, ...trajectories, ...exported]) {
      const correction = corrected.get(row.ticket_key);
      if (correction) {
        expect(row.label, row.ticket_key).toBe(correction.corrected_label);
        expect(row.original_label, row.ticket_key).toBe(correction.original_label);
      } else {
        expect(row.original_label, row.ticket_key).toBeNull();
      }
    }
    for (const row of trained) {
      // label_match is judged against the corrected label.
      if (row.verdict !== null) expect(row.signals.label_match).toBe(row.verdict === corrected.get(row.ticket_key)!.corrected_label);
    }
    expect(trajectories.filter((row) => corrected.has(row.ticket_key)).length).toBe(trained.length * 2);
    expect(exported.filter((row) => corrected.has(row.ticket_key)).length).toBe(trained.length);
    // The same tickets run as without corrections (max_tickets picks by the input's labels); only the corrected ones changed label.
    const before = (await validateStageBRun(first.config, async () => null)).tickets;
    const after = (await validateStageBRun(second.config, async () => null)).tickets;
    expect(after.map((ticket) => ticket.ticket_key)).toEqual(before.map((ticket) => ticket.ticket_key));
    expect(after.filter((ticket, i) => ticket.label !== before[i].label).map((ticket) => ticket.ticket_key).sort()).toEqual([...corrected.keys()].sort());

    // The workbench's group detail shows the label the run used, and the input's beside it.
    const api = createWorkbenchApi({
      runsRoot: path.join(work, 'second', 'out'),
      engineLauncher: () => {
        throw new Error('no engine here');
      },
      parseConfig: parseRunConfigText,
    });
    const shown = trained[0];
    const detail = await dispatchApiCall(api.handlers, 'groupDetail', { runId: 'second', mission, groupId: shown.group_id });
    if (!detail.ok) throw new Error(JSON.stringify(detail.error));
    const ticket = (detail.result as { tickets: { ticket_key: string; label: string; original_label?: string | null }[] }).tickets.find((entry) => entry.ticket_key === shown.ticket_key);
    expect(ticket).toMatchObject({ label: corrected.get(shown.ticket_key)!.corrected_label, original_label: corrected.get(shown.ticket_key)!.original_label });

    // Reviews of the second run build on its corrections: one flipped back to the input's label drops out, a new one joins.
    const flippedBack = trained[0];
    const fresh = selections.find((row) => row.label !== null && !corrected.has(row.ticket_key))!;
    await appendQaReviews(second.runDir, [flippedBack, fresh].map((row, i) => ({
      review_id: `s${i}`, group_id: row.group_id, ticket_key: row.ticket_key, epoch: row.epoch, status: 'label_wrong', note: 'second look', reviewer: 'qa2', created_at: `2026-01-02T00:00:0${i}.000Z`,
    })));
    const chained = path.join(work, 'corrections-2.jsonl');
    expect(await main(['reviews', 'corrections', '--run', second.runDir, '--out', chained], silent)).toBe(0);
    const next = await rows(chained, (v) => LabelCorrectionSchema.parse(v));
    expect(next.map((row) => row.ticket_key).sort()).toEqual([...[...corrected.keys()].filter((key) => key !== flippedBack.ticket_key), fresh.ticket_key].sort());
    expect(next.find((row) => row.ticket_key === fresh.ticket_key)).toMatchObject({ original_label: fresh.label, corrected_label: fresh.label === 'pass' ? 'fail' : 'pass', reviewer: 'qa2' });

    // run.json records the file; a rerun after it changed is refused instead of mixing two sets of labels.
    const manifest = JSON.parse(await fsp.readFile(path.join(second.runDir, 'run.json'), 'utf8'));
    expect(manifest.label_corrections).toMatchObject({ path: correctionsFile, lines: corrections.length });
    await fsp.writeFile(correctionsFile, (await fsp.readFile(correctionsFile, 'utf8')).split('\n').slice(1).join('\n'));
    const conflict = await composeStageBRun({ configPath: second.config, model: scripted }).then(() => null, (e: unknown) => e);
    expect(conflict).toBeInstanceOf(StageBError);
    expect((conflict as StageBError).code).toBe('RUN_DIR_CONFLICT');
    expect((conflict as StageBError).location.field).toBe('label_corrections');
  });

  it('a corrections file naming a ticket the input lacks stops the run before anything is written', async () => {
    const file = path.join(work, 'bad-corrections.jsonl');
    await fsp.writeFile(file, `${JSON.stringify({ ticket_key: 'NOPE::pass', group_id: 'NOPE', mission, original_label: 'pass', corrected_label: 'fail', reviewer: null, note: '', reviewed_at: '2026-01-01T00:00:00.000Z' })}\n`);
    const bad = await writeConfig('bad', ['label_corrections:', '  path: ../bad-corrections.jsonl']);
    const error = await validateStageBRun(bad.config, async () => null).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StageBError);
    expect((error as StageBError).code).toBe('INPUT_INVALID_FIELD');
    expect((error as StageBError).location).toEqual({ file, line: 1, field: 'ticket_key' });
    await expect(composeStageBRun({ configPath: bad.config, model: scripted })).rejects.toThrow(/NOPE::pass/);
    await expect(fsp.stat(bad.runDir)).rejects.toThrow();
  });

  it('a config without label corrections hashes as it did before the key existed, so older runs still resume', async () => {
    const { config } = await writeConfig('hash');
    const loaded = (await validateStageBRun(config, async () => null)).loaded.config;
    const { label_corrections: _none, ...older } = loaded;
    expect(hashConfig(loaded)).toBe(createHash('sha256').update(canonicalJson(older)).digest('hex'));
    expect(hashConfig({ ...loaded, label_corrections: { path: '/corrections.jsonl' } })).not.toBe(hashConfig(loaded));
  });
});
