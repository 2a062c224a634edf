import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrajectoryRecordSchema, type TrajectoryRecord } from '../../../shared/schemas/records';
import { fixtureTrajectories } from '../fixtureRun';
import { writeJsonlRows } from '../../io/jsonl';
import { JsonlIndexCache } from '../JsonlIndexCache';
import { JsonlLineIndex } from '../JsonlLineIndex';
import { loadIndexSidecar, sidecarPathOf } from './IndexSidecar';

const ROWS: TrajectoryRecord[] = [...fixtureTrajectories({ runName: 'r', mission: 'BBU接地线检查', groups: 50, candidates: 4, epochs: 2 })];
const QUERY = { filters: {}, sort: { field: 'row' as const, dir: 'asc' as const }, offset: 0, limit: 1000 };
const SORTED_SEARCH = { ...QUERY, filters: { text: '接地' }, sort: { field: 'self_consistency' as const, dir: 'desc' as const } };

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sidecar-'));
  file = path.join(dir, 'trajectories.jsonl');
  await writeJsonlRows(file, ROWS);
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function built(): Promise<JsonlLineIndex<TrajectoryRecord>> {
  const index = new JsonlLineIndex(file, TrajectoryRecordSchema, { sidecarMinRows: 1 });
  await index.refresh();
  await index.sidecarWritten();
  return index;
}

async function reopened(): Promise<JsonlLineIndex<TrajectoryRecord>> {
  const index = new JsonlLineIndex(file, TrajectoryRecordSchema, { sidecarMinRows: Number.MAX_SAFE_INTEGER });
  await index.refresh();
  return index;
}

async function fileStat() {
  const { stat } = await import('node:fs/promises');
  const info = await stat(file);
  return { size: info.size, mtimeMs: info.mtimeMs };
}

describe('index sidecar', () => {
  it('is written next to the file and reused by a new index with identical answers', async () => {
    const first = await built();
    expect(sidecarPathOf(file)).toBe(path.join(dir, '.workbench-index', 'trajectories.jsonl.idx'));
    const loaded = await loadIndexSidecar(file, await fileStat());
    expect('snapshot' in loaded).toBe(true);
    const second = await reopened();
    expect(second.length).toBe(ROWS.length);
    expect(second.query(SORTED_SEARCH)).toEqual(first.query(SORTED_SEARCH));
    expect(second.query({ ...QUERY, filters: { label_match: false, epoch: 1 } })).toEqual(first.query({ ...QUERY, filters: { label_match: false, epoch: 1 } }));
    const rows = await second.readRows(second.query({ ...QUERY, offset: 5, limit: 3 }).rows);
    expect(rows.rows.map((row) => row.record)).toEqual(ROWS.slice(5, 8));
  });

  it('extends a reused sidecar incrementally after an append', async () => {
    await built();
    const extra = { ...ROWS[0], group_id: 'QC-APPENDED', response_text: 'Verdict: 通过\nReason: 追加行\nConfidence: 0.5' };
    await appendFile(file, JSON.stringify(extra) + '\n');
    const loaded = await loadIndexSidecar(file, await fileStat());
    expect('snapshot' in loaded && loaded.snapshot.columns.length).toBe(ROWS.length);
    const index = await reopened();
    expect(index.length).toBe(ROWS.length + 1);
    const page = index.query({ ...QUERY, filters: { text: '追加行' } });
    expect(page.total).toBe(1);
    expect((await index.readRows(page.rows)).rows[0]).toEqual({ line: ROWS.length + 1, record: extra });
  });

  it.each([
    ['a flipped byte in the body', async (bytes: Buffer) => {
      bytes[bytes.length - 100] ^= 0xff;
      return bytes;
    }, /checksum/],
    ['a truncated file', async (bytes: Buffer) => bytes.subarray(0, bytes.length - 1000), /length|bounds|malformed/],
    ['a foreign file', async () => Buffer.from('{"not":"an index"}'), /magic/],
  ])('rejects %s and rebuilds from the file', async (_name, corrupt, reason) => {
    await built();
    const target = sidecarPathOf(file);
    await writeFile(target, await corrupt(await readFile(target)));
    const loaded = await loadIndexSidecar(file, await fileStat());
    expect('rejected' in loaded && loaded.rejected).toMatch(reason);
    const index = await reopened();
    expect(index.length).toBe(ROWS.length);
    expect(index.query({ ...QUERY, filters: { group_id: 'QC-0000007' } }).total).toBe(ROWS.filter((row) => row.group_id === 'QC-0000007').length);
  });

  it('rejects a sidecar whose file was rewritten with other content', async () => {
    await built();
    const changed = ROWS.map((row) => ({ ...row, group_id: row.group_id.replace('QC-', 'QX-') }));
    await writeJsonlRows(file, changed);
    const loaded = await loadIndexSidecar(file, await fileStat());
    expect('rejected' in loaded).toBe(true);
    const index = await reopened();
    expect(index.query({ ...QUERY, filters: { group_id: 'QX-0000001' } }).total).toBeGreaterThan(0);
    expect(index.query({ ...QUERY, filters: { group_id: 'QC-0000001' } }).total).toBe(0);
  });
});

describe('streaming first page and background build', () => {
  it('answers the first page from the first rows, equal to the fully indexed first page, while the build goes on', async () => {
    const big = [...fixtureTrajectories({ runName: 'big', mission: 'm', groups: 6250, candidates: 4, epochs: 2 })];
    await writeJsonlRows(file, big);
    const cache = new JsonlIndexCache(8, 400 * 1024 * 1024, 0, false);
    const first = await cache.queryPage(file, TrajectoryRecordSchema, { ...QUERY, limit: 100 });
    expect(first.partial).toBe(true);
    expect(first.indexedRows).toBeLessThan(big.length);
    expect(first.indexedFraction).toBeLessThan(1);
    expect(first.rows.map((row) => row.record)).toEqual(big.slice(0, 100));
    const full = await cache.get(file, TrajectoryRecordSchema);
    expect(full.length).toBe(big.length);
    const indexed = await full.readRows(full.query({ ...QUERY, limit: 100 }).rows);
    expect(first.rows).toEqual(indexed.rows);
    const complete = await cache.queryPage(file, TrajectoryRecordSchema, { ...QUERY, limit: 100 });
    expect(complete.partial).toBe(false);
    expect(complete.total).toBe(big.length);
  });

  it('does not block the event loop: a concurrent small query resolves before a large build finishes', async () => {
    const big = [...fixtureTrajectories({ runName: 'big', mission: 'm', groups: 6250, candidates: 4, epochs: 2 })];
    await writeJsonlRows(file, big);
    const small = path.join(dir, 'small.jsonl');
    await writeJsonlRows(small, ROWS.slice(0, 20));
    const cache = new JsonlIndexCache(8, 400 * 1024 * 1024, 250, false);
    const order: string[] = [];
    const build = cache.get(file, TrajectoryRecordSchema).then(() => order.push('build'));
    const timer = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => order.push('timer'));
    const query = cache.queryPage(small, TrajectoryRecordSchema, { ...QUERY, filters: { label: 'fail' } }).then((page) => {
      order.push('small query');
      expect(page.partial).toBe(false);
    });
    await Promise.all([build, timer, query]);
    expect(order.indexOf('small query')).toBeLessThan(order.indexOf('build'));
    expect(order.indexOf('timer')).toBeLessThan(order.indexOf('build'));
  });

  it('answers a filtered query during the build over the indexed prefix, flagged partial', async () => {
    const big = [...fixtureTrajectories({ runName: 'big', mission: 'm', groups: 6250, candidates: 4, epochs: 2 })];
    await writeJsonlRows(file, big);
    const cache = new JsonlIndexCache(8, 400 * 1024 * 1024, 0, false);
    const page = await cache.queryPage(file, TrajectoryRecordSchema, { ...QUERY, filters: { label: 'fail' }, limit: 10 });
    if (page.partial) {
      const prefix = big.slice(0, page.indexedRows).filter((row) => row.label === 'fail');
      expect(page.total).toBe(prefix.length);
    } else expect(page.total).toBe(big.filter((row) => row.label === 'fail').length);
    const after = await cache.get(file, TrajectoryRecordSchema);
    expect(after.query({ ...QUERY, filters: { label: 'fail' } }).total).toBe(big.filter((row) => row.label === 'fail').length);
  });
});
