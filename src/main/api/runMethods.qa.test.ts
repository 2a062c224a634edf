import { apiCalls } from '../../../test/helpers/apiCalls';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QaReviewLogRowSchema } from '../../shared/schemas/qaReview';
import { LabelCorrectionSchema } from '../../shared/schemas/labelCorrections';
import { parseRunConfigText } from '../io/loadRunConfig';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { fixtureSelections, groupIdOf, writeFixtureRun } from './fixtureRun';

const MISSION = 'BBU接地线检查';
const OPTIONS = { runName: 'run-qa', mission: MISSION, groups: 30, candidates: 3, epochs: 2 };
const REF = { runId: 'run-qa', mission: MISSION };

let root: string;
let missionDir: string;
let api: WorkbenchApi;
let clock = 0;

const { call, ok } = apiCalls(() => api);

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'stageb-qa-'));
  missionDir = await writeFixtureRun(root, OPTIONS);
  clock = 0;
  api = createWorkbenchApi({
    runsRoot: root,
    engineLauncher: () => {
      throw new Error('no engine in this test');
    },
    parseConfig: (text, label) => parseRunConfigText(text, label),
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)),
  });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The fixture's rows that need a person, by the rules the queue documents. */
function needsPerson(lowConfidence = 0.6) {
  return [...fixtureSelections(OPTIONS)].filter(
    (row) => row.group_id === groupIdOf(1) || row.ineligible_reason !== null || row.signals.label_match === false || (row.confidence !== null && row.confidence < lowConfidence),
  );
}

describe('QA queue', () => {
  it('defaults to the items that need a person, and lists every reason with scope all', async () => {
    const queue = await ok('qaQueue', { ...REF, limit: 500 });
    const expected = needsPerson();
    expect(queue.total).toBe(expected.length);
    expect(queue.items.map((item: any) => `${item.group_id}/${item.epoch}`)).toEqual(expected.map((row) => `${row.group_id}/${row.epoch}`));
    for (const item of queue.items) expect(item.reasons.some((reason: string) => ['need_review', 'ineligible', 'label_mismatch', 'low_confidence'].includes(reason))).toBe(true);
    const all = await ok('qaQueue', { ...REF, scope: 'all', limit: 500 });
    expect(all.total).toBeGreaterThan(queue.total);
    expect(all.items.some((item: any) => item.reasons.length > 0 && item.reasons.every((reason: string) => reason === 'critique' || reason === 'warning'))).toBe(true);
    const strict = await ok('qaQueue', { ...REF, lowConfidence: 0, limit: 500 });
    expect(strict.total).toBe(needsPerson(0).length);
    const mismatch = await ok('qaQueue', { ...REF, reason: 'label_mismatch', limit: 500 });
    expect(mismatch.total).toBe([...fixtureSelections(OPTIONS)].filter((row) => row.signals.label_match === false).length);
  });

  it('counts progress over the items in scope, reviewed ones included', async () => {
    const before = await ok('qaQueue', { ...REF, limit: 500 });
    expect(before.progress).toEqual({ reviewed: 0, total: before.total });
    const [a, b] = before.items;
    await ok('markReviewed', { ...REF, groupId: a.group_id, ticketKey: a.ticket_key, epoch: a.epoch, status: 'ok', reviewer: 'qa1' });
    await ok('markReviewed', { ...REF, groupId: b.group_id, ticketKey: b.ticket_key, epoch: b.epoch, status: 'label_wrong', reviewer: 'qa1' });
    const after = await ok('qaQueue', { ...REF, limit: 500 });
    expect(after.progress).toEqual({ reviewed: 2, total: before.total });
    const pending = await ok('qaQueue', { ...REF, includeReviewed: false, limit: 500 });
    expect(pending.total).toBe(before.total - 2);
    expect(pending.progress).toEqual({ reviewed: 2, total: before.total });
  });
});

describe('QA review undo', () => {
  it('retracts the last review by appending, and the earlier review is current again', async () => {
    const item = { groupId: groupIdOf(1), ticketKey: `${groupIdOf(1)}::pass`, epoch: 0 };
    const first = (await ok('markReviewed', { ...REF, ...item, status: 'ok', note: '先看', reviewer: 'qa1' })).review;
    const second = (await ok('markReviewed', { ...REF, ...item, status: 'label_wrong', note: '标签错了', reviewer: 'qa1' })).review;
    expect(first.review_id).not.toBe(second.review_id);
    const undo = await ok('qaUndoReview', { ...REF, reviewer: 'qa1' });
    expect(undo.retracted).toMatchObject({ review_id: second.review_id, status: 'label_wrong' });
    expect(undo.current).toMatchObject({ review_id: first.review_id, status: 'ok', note: '先看' });

    const lines = (await readFile(path.join(missionDir, 'qa_reviews.jsonl'), 'utf8')).trimEnd().split('\n').map((line) => QaReviewLogRowSchema.parse(JSON.parse(line)));
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ type: 'retraction', retracts: second.review_id, reviewer: 'qa1' });

    const queue = await ok('qaQueue', { ...REF, reason: 'need_review' });
    expect(queue.items.find((entry: any) => entry.epoch === 0).review).toMatchObject({ review_id: first.review_id });
    const detail = await ok('groupDetail', { ...REF, groupId: groupIdOf(1) });
    expect(detail.reviews.map((review: any) => review.review_id)).toEqual([first.review_id]);

    expect(await call('qaUndoReview', { ...REF, reviewId: second.review_id })).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND', message: expect.stringMatching(/already undone/) } });
    expect((await ok('qaUndoReview', { ...REF, reviewId: first.review_id })).current).toBeNull();
    expect(await call('qaUndoReview', { ...REF })).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND', message: 'there is no review to undo' } });
    expect((await ok('qaQueue', { ...REF, reason: 'need_review' })).progress.reviewed).toBe(0);
  });

  it('undoes only the given reviewer\'s last review', async () => {
    const mine = (await ok('markReviewed', { ...REF, groupId: groupIdOf(3), epoch: 0, status: 'ok', reviewer: 'qa1' })).review;
    await ok('markReviewed', { ...REF, groupId: groupIdOf(4), epoch: 0, status: 'ok', reviewer: 'qa2' });
    expect((await ok('qaUndoReview', { ...REF, reviewer: 'qa1' })).retracted.review_id).toBe(mine.review_id);
  });
});

describe('QA review export and label corrections', () => {
  it('exports the current review of each item, and a label_wrong review becomes a correction', async () => {
    await ok('markReviewed', { ...REF, groupId: groupIdOf(2), ticketKey: `${groupIdOf(2)}::pass`, epoch: 0, status: 'label_wrong', note: '其实没接地', reviewer: 'qa1' });
    await ok('markReviewed', { ...REF, groupId: groupIdOf(3), epoch: 1, status: 'guidance_gap', reviewer: 'qa2' });
    await ok('markReviewed', { ...REF, groupId: groupIdOf(3), epoch: 1, status: 'label_wrong', reviewer: 'qa2' });
    await ok('markReviewed', { ...REF, groupId: groupIdOf(4), epoch: 0, status: 'label_wrong', reviewer: 'qa2' });
    await ok('markReviewed', { ...REF, groupId: groupIdOf(4), epoch: 1, status: 'ok', note: 'looked again', reviewer: 'qa2' });
    const { rows } = await ok('qaExportReviews', REF);
    expect(rows.map((row: any) => [row.group_id, row.epoch, row.status])).toEqual([
      [groupIdOf(2), 0, 'label_wrong'],
      [groupIdOf(3), 1, 'label_wrong'],
      [groupIdOf(4), 0, 'label_wrong'],
      [groupIdOf(4), 1, 'ok'],
    ]);
    expect(rows[1]).toMatchObject({ mission: MISSION, ticket_key: `${groupIdOf(3)}::fail`, label: 'fail', reviewer: 'qa2', reviewed_at: '2026-01-01T00:00:02.000Z' });

    const { corrections, skipped } = await ok('qaLabelCorrections', REF);
    expect(skipped).toEqual([]);
    // Group 4's latest review (epoch 1) says ok: its label stands.
    expect(corrections.map((row: any) => LabelCorrectionSchema.parse(row))).toEqual([
      { ticket_key: `${groupIdOf(2)}::pass`, group_id: groupIdOf(2), mission: MISSION, original_label: 'pass', corrected_label: 'fail', reviewer: 'qa1', note: '其实没接地', reviewed_at: '2026-01-01T00:00:00.000Z' },
      { ticket_key: `${groupIdOf(3)}::fail`, group_id: groupIdOf(3), mission: MISSION, original_label: 'fail', corrected_label: 'pass', reviewer: 'qa2', note: '', reviewed_at: '2026-01-01T00:00:02.000Z' },
    ]);
  });
});

describe('reviews in the rows browser', () => {
  it('filters rows by the review of their item and carries the review on each row', async () => {
    const total = [...fixtureSelections(OPTIONS)].length;
    await ok('markReviewed', { ...REF, groupId: groupIdOf(5), ticketKey: `${groupIdOf(5)}::pass`, epoch: 1, status: 'label_wrong', reviewer: 'qa1' });
    await ok('markReviewed', { ...REF, groupId: groupIdOf(6), ticketKey: `${groupIdOf(6)}::fail`, epoch: 0, status: 'ok', reviewer: 'qa1' });
    const wrong = await ok('queryRows', { ...REF, kind: 'selections', filters: { review: 'label_wrong' } });
    expect(wrong.rows.map((row: any) => [row.record.group_id, row.record.epoch, row.review?.status])).toEqual([[groupIdOf(5), 1, 'label_wrong']]);
    const reviewed = await ok('queryRows', { ...REF, kind: 'selections', filters: { review: 'reviewed' }, limit: 500 });
    expect(reviewed.total).toBe(2);
    const unreviewed = await ok('queryRows', { ...REF, kind: 'selections', filters: { review: 'unreviewed' }, limit: 500 });
    expect(unreviewed.total).toBe(total - 2);
    expect(unreviewed.rows.every((row: any) => row.review === null)).toBe(true);
    const candidates = await ok('queryRows', { ...REF, kind: 'trajectories', filters: { review: 'reviewed', epoch: 0 }, limit: 500 });
    expect(candidates.rows.map((row: any) => [row.record.group_id, row.review.status])).toEqual(Array.from({ length: OPTIONS.candidates }, () => [groupIdOf(6), 'ok']));
    // An undo takes the row out of the filter again.
    await ok('qaUndoReview', { ...REF });
    expect((await ok('queryRows', { ...REF, kind: 'selections', filters: { review: 'reviewed' } })).total).toBe(1);
  });
});
