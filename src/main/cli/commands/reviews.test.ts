import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli';
import type { CliIo } from '../CliIo';
import { appendQaReviews } from '../../io/qaReviewsFile';
import { groupIdOf, writeFixtureRun } from '../../api/fixtureRun';
import { QaReviewExportRowSchema, type QaReviewRecord } from '../../../shared/schemas/qaReview';
import { LabelCorrectionSchema } from '../../../shared/schemas/labelCorrections';

const MISSION = 'BBU接地线检查';

function collector() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

function review(id: string, g: number, epoch: number, status: QaReviewRecord['status'], label: 'pass' | 'fail', second = 0): QaReviewRecord {
  return { review_id: id, group_id: groupIdOf(g), ticket_key: `${groupIdOf(g)}::${label}`, epoch, status, note: `note ${id}`, reviewer: 'qa1', created_at: `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z` };
}

let base: string;
let runDir: string;
let missionDir: string;
beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'stageb-reviews-cli-'));
  missionDir = await writeFixtureRun(path.join(base, 'runs'), { runName: 'r1', mission: MISSION, groups: 12, candidates: 2, epochs: 1 });
  runDir = path.dirname(missionDir);
  await appendQaReviews(missionDir, [
    review('a', 1, 0, 'label_wrong', 'pass', 1),
    review('b', 3, 0, 'ok', 'fail', 2),
    review('c', 2, 0, 'label_wrong', 'pass', 3),
    { type: 'retraction', retracts: 'c', group_id: groupIdOf(2), ticket_key: `${groupIdOf(2)}::pass`, epoch: 0, reviewer: 'qa1', created_at: '2026-01-01T00:00:04.000Z' },
  ]);
  // A crash mid-append left half a row: reported, never fatal.
  await appendQaReviewsTorn();
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function appendQaReviewsTorn() {
  const { appendFile } = await import('node:fs/promises');
  await appendFile(path.join(missionDir, 'qa_reviews.jsonl'), '{"review_id":"d","group');
}

describe('stageb reviews', () => {
  it('--help lists both subcommands', async () => {
    const c = collector();
    expect(await main(['reviews', '--help'], c.io)).toBe(0);
    expect(c.stdout()).toContain('export');
    expect(c.stdout()).toContain('corrections');
  });

  it('export --json prints the current review of each item, undone ones left out', async () => {
    const c = collector();
    expect(await main(['reviews', 'export', '--run', runDir, '--json'], c.io)).toBe(0);
    const result = JSON.parse(c.stdout());
    expect(result).toMatchObject({ ok: true, out: null, count: 2 });
    expect(result.rows.map((row: unknown) => QaReviewExportRowSchema.parse(row))).toEqual([
      { mission: MISSION, review_id: 'a', group_id: groupIdOf(1), ticket_key: `${groupIdOf(1)}::pass`, epoch: 0, label: 'pass', status: 'label_wrong', note: 'note a', reviewer: 'qa1', reviewed_at: '2026-01-01T00:00:01.000Z' },
      { mission: MISSION, review_id: 'b', group_id: groupIdOf(3), ticket_key: `${groupIdOf(3)}::fail`, epoch: 0, label: 'fail', status: 'ok', note: 'note b', reviewer: 'qa1', reviewed_at: '2026-01-01T00:00:02.000Z' },
    ]);
    expect(c.stderr()).toMatch(/qa_reviews\.jsonl:5: skipped a torn last line/);
  });

  it('export --out writes JSONL, from the mission folder too', async () => {
    const out = path.join(base, 'reviews.jsonl');
    const c = collector();
    expect(await main(['reviews', 'export', '--run', missionDir, '--out', out], c.io)).toBe(0);
    expect(c.stdout()).toBe(`wrote 2 reviews → ${out}\n`);
    const rows = (await readFile(out, 'utf8')).trimEnd().split('\n').map((line) => QaReviewExportRowSchema.parse(JSON.parse(line)));
    expect(rows.map((row) => row.review_id)).toEqual(['a', 'b']);
  });

  it('corrections writes one row per label_wrong ticket', async () => {
    const out = path.join(base, 'corrections.jsonl');
    const c = collector();
    expect(await main(['reviews', 'corrections', '--run', runDir, '--out', out, '--json'], c.io)).toBe(0);
    expect(JSON.parse(c.stdout())).toEqual({ ok: true, out, corrections: 1, carried: 0, skipped: [] });
    const rows = (await readFile(out, 'utf8')).trimEnd().split('\n').map((line) => LabelCorrectionSchema.parse(JSON.parse(line)));
    expect(rows).toEqual([
      { ticket_key: `${groupIdOf(1)}::pass`, group_id: groupIdOf(1), mission: MISSION, original_label: 'pass', corrected_label: 'fail', reviewer: 'qa1', note: 'note a', reviewed_at: '2026-01-01T00:00:01.000Z' },
    ]);
  });

  it('a missing run directory is a typed error (exit 1), and --out is required for corrections (exit 2)', async () => {
    const c = collector();
    expect(await main(['reviews', 'export', '--run', path.join(base, 'nope'), '--json'], c.io)).toBe(1);
    expect(JSON.parse(c.stdout())).toMatchObject({ ok: false, errors: [{ code: 'INPUT_NOT_FOUND', location: { field: '--run' } }] });
    const d = collector();
    expect(await main(['reviews', 'export', '--run', runDir, '--mission', 'other'], d.io)).toBe(1);
    expect(d.stderr()).toMatch(/INPUT_NOT_FOUND .*no mission "other"/);
    const e = collector();
    expect(await main(['reviews', 'corrections', '--run', runDir], e.io)).toBe(2);
  });
});
