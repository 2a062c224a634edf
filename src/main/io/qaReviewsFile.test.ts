import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QaReviewLogRowSchema, type QaReviewRecord } from '../../shared/schemas/qaReview';
import { foldQaReviews } from '../../shared/qaReviews/foldQaReviews';
import { appendQaReviews, qaReviewsPath, readQaReviews } from './qaReviewsFile';

function review(id: string, status: QaReviewRecord['status'] = 'ok'): QaReviewRecord {
  return { review_id: id, group_id: 'QC-1', ticket_key: 'QC-1::pass', epoch: 0, status, note: '备注', reviewer: 'qa1', created_at: '2026-01-01T00:00:00.000Z' };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qa-reviews-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('qa_reviews.jsonl', () => {
  it('reads a missing file as an empty log', async () => {
    expect(await readQaReviews(dir)).toEqual({ rows: [], invalid: [], tornTail: null });
  });

  it('reports a torn tail, and the next append cuts it off and leaves a file of whole rows', async () => {
    await appendQaReviews(dir, [review('a')]);
    // A crash mid-append: half a row (cut inside a multi-byte character), no newline.
    const half = Buffer.from(JSON.stringify(review('b')), 'utf8');
    const cut = half.indexOf(Buffer.from('备', 'utf8')) + 1;
    await writeFile(qaReviewsPath(dir), Buffer.concat([await readFile(qaReviewsPath(dir)), half.subarray(0, cut)]));
    const torn = await readQaReviews(dir);
    expect(torn.rows.map((entry) => entry.line)).toEqual([1]);
    expect(torn.tornTail).toEqual({ line: 2, bytes: cut });
    expect(torn.invalid).toEqual([]);

    expect(await appendQaReviews(dir, [review('c', 'label_wrong')])).toEqual({ truncatedTornTailBytes: cut });
    const text = await readFile(qaReviewsPath(dir), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(QaReviewLogRowSchema.safeParse(JSON.parse(line)).success).toBe(true);
    const after = await readQaReviews(dir);
    expect(after.tornTail).toBeNull();
    expect(after.rows.map((entry) => (entry.row as QaReviewRecord).review_id)).toEqual(['a', 'c']);
  });

  it('reports a bad complete line by number and still reads the rows around it', async () => {
    await writeFile(qaReviewsPath(dir), `${JSON.stringify(review('a'))}\n{"group_id":"QC-1"}\nnot json\n${JSON.stringify(review('b'))}\n`);
    const read = await readQaReviews(dir);
    expect(read.rows.map((entry) => entry.line)).toEqual([1, 4]);
    expect(read.invalid.map((entry) => entry.line)).toEqual([2, 3]);
    expect(read.invalid[1].message).toMatch(/malformed JSON/);
  });

  it('refuses to append a row that is neither a review nor a retraction', async () => {
    await expect(appendQaReviews(dir, [{ ...review('a'), status: 'great' } as never])).rejects.toThrow();
    expect(await readQaReviews(dir)).toEqual({ rows: [], invalid: [], tornTail: null });
  });

  it('gives rows written before review ids their line, and a retraction takes its review back', async () => {
    const { review_id: _unused, ...legacy } = review('x');
    await writeFile(qaReviewsPath(dir), `${JSON.stringify(legacy)}\n`);
    await appendQaReviews(dir, [review('b', 'label_wrong'), { type: 'retraction', retracts: 'b', group_id: 'QC-1', ticket_key: 'QC-1::pass', epoch: 0, reviewer: 'qa1', created_at: '2026-01-01T00:00:01.000Z' }]);
    const fold = foldQaReviews((await readQaReviews(dir)).rows);
    expect(fold.live.map((entry) => entry.review_id)).toEqual(['line-1']);
    expect([...fold.retracted]).toEqual(['b']);
    expect([...fold.current.values()].map((entry) => entry.status)).toEqual(['ok']);
  });
});
