import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SelectionRecordSchema, TrajectoryRecordSchema, type TrajectoryRecord } from '../../shared/schemas/records';
import { fixtureSelections, fixtureTrajectories } from './fixtureRun';
import { writeJsonlRows } from '../io/jsonl';
import { JsonlLineIndex } from './JsonlLineIndex';

const OPTIONS = { runName: 'r1', mission: 'BBU接地线检查', groups: 60, candidates: 4, epochs: 2 };
const ALL: TrajectoryRecord[] = [...fixtureTrajectories(OPTIONS)];
const DEFAULT_QUERY = { filters: {}, sort: { field: 'row' as const, dir: 'asc' as const }, offset: 0, limit: 500 };

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'jsonl-index-'));
  file = path.join(dir, 'trajectories.jsonl');
  await writeJsonlRows(file, ALL);
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function openIndex() {
  const index = new JsonlLineIndex(file, TrajectoryRecordSchema);
  await index.refresh();
  return index;
}

describe('JsonlLineIndex', () => {
  it('indexes every line and pages in file order', async () => {
    const index = await openIndex();
    expect(index.length).toBe(ALL.length);
    const page = index.query({ ...DEFAULT_QUERY, offset: 10, limit: 5 });
    expect(page.total).toBe(ALL.length);
    const read = await index.readRows(page.rows);
    expect(read.invalid).toEqual([]);
    expect(read.rows.map((row) => row.line)).toEqual([11, 12, 13, 14, 15]);
    expect(read.rows.map((row) => row.record)).toEqual(ALL.slice(10, 15));
  });

  it.each([
    ['epoch', { epoch: 1 }, (r: TrajectoryRecord) => r.epoch === 1],
    ['label fail', { label: 'fail' as const }, (r: TrajectoryRecord) => r.label === 'fail'],
    ['unlabelled', { label: 'none' as const }, (r: TrajectoryRecord) => r.label === null],
    ['verdict none', { verdict: 'none' as const }, (r: TrajectoryRecord) => r.verdict === null],
    ['label_match false', { label_match: false }, (r: TrajectoryRecord) => r.signals.label_match === false],
    ['label_match null', { label_match: null }, (r: TrajectoryRecord) => r.signals.label_match === null],
    ['warning', { warning: 'malformed_output' as const }, (r: TrajectoryRecord) => r.warnings.includes('malformed_output')],
    ['group', { group_id: 'QC-0000005' }, (r: TrajectoryRecord) => r.group_id === 'QC-0000005'],
    ['text (Chinese)', { text: '线径' }, (r: TrajectoryRecord) => [r.response_text, r.summary, r.critique].some((t) => t?.includes('线径'))],
    ['text (case-insensitive ASCII)', { text: 'VERDICT: ???' }, (r: TrajectoryRecord) => r.response_text.toLowerCase().includes('verdict: ???')],
    ['combined', { epoch: 0, label: 'pass' as const, label_match: false, text: '接地' }, (r: TrajectoryRecord) =>
      r.epoch === 0 && r.label === 'pass' && r.signals.label_match === false && [r.group_id, r.response_text, r.summary, r.critique].some((t) => t?.includes('接地'))],
  ])('filter %s matches a brute-force scan', async (_name, filters, predicate) => {
    const index = await openIndex();
    const expected = ALL.map((record, i) => ({ record, i })).filter(({ record }) => predicate(record));
    expect(expected.length).toBeGreaterThan(0);
    const page = index.query({ ...DEFAULT_QUERY, filters });
    expect(page.total).toBe(expected.length);
    expect(page.rows).toEqual(expected.slice(0, 500).map(({ i }) => i));
  });

  it('an unknown group or ineligible reason matches nothing', async () => {
    const index = await openIndex();
    expect(index.query({ ...DEFAULT_QUERY, filters: { group_id: 'nope' } }).total).toBe(0);
    expect(index.query({ ...DEFAULT_QUERY, filters: { ineligible_reason: 'nope' } }).total).toBe(0);
  });

  it('sorts by confidence desc with nulls last and ties in file order', async () => {
    const index = await openIndex();
    const page = index.query({ ...DEFAULT_QUERY, sort: { field: 'confidence', dir: 'desc' }, limit: ALL.length });
    const expected = ALL.map((record, i) => ({ c: record.confidence, i })).sort((a, b) => {
      if (a.c === null || b.c === null) return a.c === null && b.c === null ? a.i - b.i : a.c === null ? 1 : -1;
      return b.c - a.c || a.i - b.i;
    });
    expect(page.rows).toEqual(expected.map(({ i }) => i));
  });

  it('sorts by group_id asc and pages through the sorted, filtered rows', async () => {
    const index = await openIndex();
    const expected = ALL.map((record, i) => ({ record, i }))
      .filter(({ record }) => record.label === 'fail')
      .sort((a, b) => a.record.group_id.localeCompare(b.record.group_id) || a.i - b.i)
      .map(({ i }) => i);
    const first = index.query({ ...DEFAULT_QUERY, filters: { label: 'fail' }, sort: { field: 'group_id', dir: 'asc' }, offset: 0, limit: 7 });
    const second = index.query({ ...DEFAULT_QUERY, filters: { label: 'fail' }, sort: { field: 'group_id', dir: 'asc' }, offset: 7, limit: 7 });
    expect(first.total).toBe(expected.length);
    expect([...first.rows, ...second.rows]).toEqual(expected.slice(0, 14));
  });

  it('a selective filter sorts only its matches, with the same result as the whole-file order', async () => {
    const expected = ALL.map((record, i) => ({ record, i }))
      .filter(({ record }) => record.epoch === 1 && record.batch_index === 2)
      .sort((a, b) => {
        const x = a.record.signals.self_consistency;
        const y = b.record.signals.self_consistency;
        if (x === null || y === null) return x === null && y === null ? a.i - b.i : x === null ? 1 : -1;
        return y - x || a.i - b.i;
      })
      .map(({ i }) => i);
    const query = { ...DEFAULT_QUERY, filters: { epoch: 1, batch_index: 2 }, sort: { field: 'self_consistency' as const, dir: 'desc' as const } };
    const selective = await openIndex();
    const subsetSorted = selective.query(query);
    expect(subsetSorted.total).toBe(expected.length);
    expect(expected.length * 4).toBeLessThan(ALL.length);
    expect(subsetSorted.rows).toEqual(expected);
    const warmed = await openIndex();
    warmed.query({ ...DEFAULT_QUERY, sort: query.sort }); // builds the whole-file order first
    expect(warmed.query(query).rows).toEqual(expected);
    expect(warmed.query({ ...query, offset: 3, limit: 4 }).rows).toEqual(expected.slice(3, 7));
  });

  it('row order desc reverses the file', async () => {
    const index = await openIndex();
    const page = index.query({ ...DEFAULT_QUERY, sort: { field: 'row', dir: 'desc' }, limit: 3 });
    expect(page.rows).toEqual([ALL.length - 1, ALL.length - 2, ALL.length - 3]);
  });

  it('extends the index incrementally when the file grows', async () => {
    const index = await openIndex();
    const extra = { ...ALL[0], group_id: 'QC-NEW', ticket_key: 'QC-NEW::pass', response_text: 'Verdict: 通过\nReason: 新增行\nConfidence: 0.5' };
    await appendFile(file, JSON.stringify(extra) + '\n');
    await index.refresh();
    expect(index.length).toBe(ALL.length + 1);
    const page = index.query({ ...DEFAULT_QUERY, filters: { text: '新增行' } });
    expect(page.total).toBe(1);
    const read = await index.readRows(page.rows);
    expect(read.rows[0]).toEqual({ line: ALL.length + 1, record: extra });
  });

  it('ignores a torn last line until the writer completes it', async () => {
    const index = await openIndex();
    const extra = { ...ALL[1], group_id: 'QC-TORN' };
    const text = JSON.stringify(extra);
    await appendFile(file, text.slice(0, 40));
    await index.refresh();
    expect(index.length).toBe(ALL.length);
    expect(index.invalid).toEqual([]);
    await appendFile(file, text.slice(40) + '\n');
    await index.refresh();
    expect(index.length).toBe(ALL.length + 1);
    expect(index.query({ ...DEFAULT_QUERY, filters: { group_id: 'QC-TORN' } }).total).toBe(1);
  });

  it('indexes a complete last line without newline provisionally and does not double it when more rows follow', async () => {
    const index = await openIndex();
    await appendFile(file, JSON.stringify({ ...ALL[2], group_id: 'QC-A' }));
    await index.refresh();
    expect(index.query({ ...DEFAULT_QUERY, filters: { group_id: 'QC-A' } }).total).toBe(1);
    await appendFile(file, '\n' + JSON.stringify({ ...ALL[3], group_id: 'QC-B' }) + '\n');
    await index.refresh();
    expect(index.length).toBe(ALL.length + 2);
    expect(index.query({ ...DEFAULT_QUERY, filters: { group_id: 'QC-A' } }).total).toBe(1);
    const rows = await index.readRows(index.query({ ...DEFAULT_QUERY, filters: { group_id: 'QC-B' } }).rows);
    expect(rows.rows[0].line).toBe(ALL.length + 2);
  });

  it('reports malformed lines with their line numbers and keeps indexing the rest', async () => {
    await writeFile(file, [JSON.stringify(ALL[0]), '{not json', '[1,2]', JSON.stringify({ epoch: 0 }), JSON.stringify(ALL[1]), ''].join('\n'));
    const index = await openIndex();
    expect(index.length).toBe(2);
    expect(index.invalid.map((entry) => entry.line)).toEqual([2, 3, 4]);
    const read = await index.readRows([1]);
    expect(read.rows[0].line).toBe(5);
  });

  it('a row that passes the index but not the full schema is reported at read time', async () => {
    const broken = { ...ALL[0], decode: { temperature: 'hot' } };
    await writeFile(file, JSON.stringify(broken) + '\n');
    const index = await openIndex();
    const read = await index.readRows([0]);
    expect(read.rows).toEqual([]);
    expect(read.invalid[0].line).toBe(1);
    expect(read.invalid[0].message).toMatch(/decode/);
  });

  it('rebuilds when the file is replaced by a shorter one', async () => {
    const index = await openIndex();
    await writeJsonlRows(file, ALL.slice(0, 3));
    await index.refresh();
    expect(index.length).toBe(3);
  });

  it('filters selections on eligibility and ineligible_reason', async () => {
    const selections = [...fixtureSelections(OPTIONS)];
    const selectionsFile = path.join(dir, 'selections.jsonl');
    await writeJsonlRows(selectionsFile, selections);
    const index = new JsonlLineIndex(selectionsFile, SelectionRecordSchema);
    await index.refresh();
    const expected = selections.filter((row) => row.ineligible_reason === 'holdout_no_uplift').length;
    expect(expected).toBeGreaterThan(0);
    expect(index.query({ ...DEFAULT_QUERY, filters: { ineligible_reason: 'holdout_no_uplift' } }).total).toBe(expected);
    expect(index.query({ ...DEFAULT_QUERY, filters: { eligible: false } }).total).toBe(selections.filter((row) => row.eligible === false).length);
  });
});
