import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageBError } from '../../shared/errors';
import type { Ticket } from '../../shared/schemas/stageARecord';
import { applyLabelCorrections, loadLabelCorrections } from './loadLabelCorrections';

const MISSION = '挡风板安装检查';

function ticket(group: string, label: 'pass' | 'fail' | null): Ticket {
  return { ticket_key: `${group}::${label ?? 'unlabeled'}`, group_id: group, mission: MISSION, label, original_label: null, images: [], summaries: [{ image: 'image_1', text: '挡风板/已安装×1' }], source: { file: 'in.jsonl', line: 1 } };
}
const TICKETS = [ticket('QC-1', 'pass'), ticket('QC-2', 'fail'), ticket('QC-3', 'pass')];

function correction(group: string, original: 'pass' | 'fail', corrected: string, extra: Record<string, unknown> = {}) {
  return { ticket_key: `${group}::${original}`, group_id: group, mission: MISSION, original_label: original, corrected_label: corrected, reviewer: 'qa1', note: '', reviewed_at: '2026-01-01T00:00:00.000Z', ...extra };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'label-corrections-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileOf(name: string, rows: unknown[], blankLineFirst = false): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, (blankLineFirst ? '\n' : '') + rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return file;
}

async function failure(promise: Promise<unknown>): Promise<StageBError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(StageBError);
  return error as StageBError;
}

describe('label corrections', () => {
  it('replaces the label of each named ticket and keeps the input label as original_label', async () => {
    const file = await fileOf('ok.jsonl', [correction('QC-1', 'pass', 'fail'), correction('QC-2', 'fail', 'pass')]);
    const corrected = applyLabelCorrections(TICKETS, await loadLabelCorrections(file, MISSION, TICKETS));
    expect(corrected.map((t) => [t.ticket_key, t.label, t.original_label])).toEqual([
      ['QC-1::pass', 'fail', 'pass'],
      ['QC-2::fail', 'pass', 'fail'],
      ['QC-3::pass', 'pass', null],
    ]);
  });

  it('leaves a ticket whose correction restores its input label as it is', async () => {
    const file = await fileOf('same.jsonl', [correction('QC-1', 'pass', 'pass')]);
    expect(applyLabelCorrections(TICKETS, await loadLabelCorrections(file, MISSION, TICKETS))[0]).toEqual(TICKETS[0]);
  });

  it.each([
    ['a ticket not in the input', [correction('QC-1', 'pass', 'fail'), correction('QC-9', 'pass', 'fail')], 'INPUT_INVALID_FIELD', 3, 'ticket_key', /no ticket "QC-9::pass"/],
    ['a corrected_label that is not pass or fail', [correction('QC-1', 'pass', 'maybe')], 'INPUT_INVALID_FIELD', 2, 'corrected_label', /./],
    ['another mission', [correction('QC-1', 'pass', 'fail', { mission: 'BBU安装' })], 'INPUT_MISSION_MISMATCH', 2, 'mission', /does not match/],
    ['an original_label that is not the input label', [correction('QC-1', 'pass', 'fail', { original_label: 'fail' })], 'INPUT_INVALID_FIELD', 2, 'original_label', /not the input's label/],
    ['a group_id that is not the ticket\'s', [correction('QC-1', 'pass', 'fail', { group_id: 'QC-2' })], 'INPUT_INVALID_FIELD', 2, 'group_id', /not the group/],
    ['a second correction of one ticket', [correction('QC-1', 'pass', 'fail'), correction('QC-1', 'pass', 'fail')], 'INPUT_INVALID_FIELD', 3, 'ticket_key', /first at line 2/],
    ['an unknown key', [correction('QC-1', 'pass', 'fail', { label: 'fail' })], 'INPUT_INVALID_FIELD', 2, 'label', /unknown key/],
  ])('refuses %s, naming file, line and field', async (_name, rows, code, line, field, message) => {
    const file = await fileOf(`bad-${field}-${line}.jsonl`, rows, true);
    const error = await failure(loadLabelCorrections(file, MISSION, TICKETS));
    expect(error.code).toBe(code);
    expect(error.location).toEqual({ file, line, field });
    expect(error.message).toMatch(message);
  });

  it('refuses a missing file, naming the config key', async () => {
    const file = path.join(dir, 'absent.jsonl');
    const error = await failure(loadLabelCorrections(file, MISSION, TICKETS));
    expect(error.code).toBe('INPUT_NOT_FOUND');
    expect(error.location).toEqual({ file, field: 'label_corrections.path' });
  });

  it('refuses a cut-off last line: the file is an input, not a log', async () => {
    const file = path.join(dir, 'torn.jsonl');
    await writeFile(file, `${JSON.stringify(correction('QC-1', 'pass', 'fail'))}\n{"ticket_key":"QC-2::fa`);
    const error = await failure(loadLabelCorrections(file, MISSION, TICKETS));
    expect(error.code).toBe('INPUT_MALFORMED_JSON');
    expect(error.location).toMatchObject({ file, line: 2 });
  });
});
