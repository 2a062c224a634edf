import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import type { FoldedQaReview, QaItem } from '../../../shared/api/contract';
import { createQaStore, nextUnreviewed, QA_STATUS_KEYS, statusForKey, toJsonl } from './store';
import { QaReviewStatusSchema } from '../../../shared/schemas/qaReview';

const ref = { runId: 'demo', mission: 'm' };
const makeItem = (n: number, review: FoldedQaReview | null = null): QaItem => ({
  group_id: `QC-${n}`, ticket_key: `QC-${n}::fail`, epoch: 0, label: 'fail', verdict: 'pass', reasons: ['need_review'],
  critique: null, ineligible_reason: null, warnings: [], need_review: true, review,
});
const reviewOf = (item: QaItem, id: string, status: FoldedQaReview['status'], note = '', reviewer: string | null = null): FoldedQaReview => ({
  review_id: id, group_id: item.group_id, ticket_key: item.ticket_key, epoch: item.epoch, status, note, reviewer, created_at: 't',
});

/** A fake API that folds reviews like the server: latest non-retracted per item. */
function fakeApi(items: QaItem[]) {
  const log: FoldedQaReview[] = [];
  const retracted = new Set<string>();
  const calls: Array<{ method: string; input: Record<string, unknown> }> = [];
  const current = (item: QaItem) => [...log].reverse().find((r) => !retracted.has(r.review_id) && r.group_id === item.group_id) ?? null;
  const client = {
    qaQueue: async (input: Record<string, unknown>) => {
      calls.push({ method: 'qaQueue', input });
      const out = items.map((x) => ({ ...x, review: current(x) ?? x.review }));
      return { total: out.length, offset: 0, items: out, progress: { reviewed: out.filter((x) => x.review).length, total: out.length }, invalid_reviews: [], torn_reviews_tail: false };
    },
    markReviewed: async (input: { groupId: string; ticketKey: string; epoch: number; status: FoldedQaReview['status']; note: string; reviewer: string | null }) => {
      calls.push({ method: 'markReviewed', input });
      const review: FoldedQaReview = { review_id: `r${log.length + 1}`, group_id: input.groupId, ticket_key: input.ticketKey, epoch: input.epoch, status: input.status, note: input.note, reviewer: input.reviewer, created_at: 't' };
      log.push(review);
      return { review };
    },
    qaUndoReview: async (input: { reviewId?: string; reviewer: string | null }) => {
      calls.push({ method: 'qaUndoReview', input });
      const target = input.reviewId ? log.find((r) => r.review_id === input.reviewId)! : [...log].reverse().find((r) => !retracted.has(r.review_id))!;
      retracted.add(target.review_id);
      const item = items.find((x) => x.group_id === target.group_id)!;
      return { retracted: target, current: current(item) ?? item.review };
    },
    qaExportReviews: async () => ({
      rows: log.filter((r) => !retracted.has(r.review_id)).map((r) => ({ mission: 'm', review_id: r.review_id, group_id: r.group_id, ticket_key: r.ticket_key, epoch: r.epoch, label: 'fail', status: r.status, note: r.note, reviewer: r.reviewer, reviewed_at: r.created_at })),
      invalid_reviews: [],
    }),
    qaLabelCorrections: async () => ({ corrections: [{ ticket_key: 'QC-1::fail', group_id: 'QC-1', label: 'pass' }], skipped: [{ review_id: 'r9', group_id: 'QC-9', reason: 'no selection' }] }),
  } as unknown as ApiClient;
  return { client, calls, log };
}

describe('QA status keys', () => {
  it('gives every review status its own key, none shared, and keeps r as ok', () => {
    expect(QA_STATUS_KEYS.map((k) => k.status).sort()).toEqual([...QaReviewStatusSchema.options].sort());
    expect(new Set(QA_STATUS_KEYS.map((k) => k.key)).size).toBe(QA_STATUS_KEYS.length);
    for (const { key, status } of QA_STATUS_KEYS) expect(statusForKey(key)).toBe(status);
    expect(statusForKey('r')).toBe('ok');
    // Keys other QA actions and the list use are not statuses.
    for (const key of ['n', 'u', 's', 'j', 'k', 'g', 'G', 'Enter', '1', '?', '/']) expect(statusForKey(key)).toBeNull();
  });
});

describe('nextUnreviewed', () => {
  const r = reviewOf(makeItem(0), 'x', 'ok');
  it('finds the next item without a review, wrapping around, or stays when all are reviewed', () => {
    expect(nextUnreviewed([{ review: r }, { review: null }, { review: r }], 0)).toBe(1);
    expect(nextUnreviewed([{ review: null }, { review: r }, { review: r }], 2)).toBe(0);
    expect(nextUnreviewed([{ review: r }, { review: r }], 1)).toBe(1);
  });
});

describe('toJsonl', () => {
  it('writes one JSON value a line, each line ending in a newline', () => {
    expect(toJsonl([{ a: 1 }, { b: '挡风板' }])).toBe('{"a":1}\n{"b":"挡风板"}\n');
    expect(toJsonl([])).toBe('');
  });
});

describe('QA store', () => {
  it('asks for the needs_person scope by default and all after the toggle, with progress from the API', async () => {
    const reviewed = makeItem(1);
    const api = fakeApi([{ ...reviewed, review: reviewOf(reviewed, 'old', 'ok') }, makeItem(2), makeItem(3)]);
    const store = createQaStore(() => api.client);
    await store.getState().load(ref);
    expect(api.calls[0].input).toMatchObject({ ...ref, scope: 'needs_person' });
    expect(store.getState().progress).toEqual({ reviewed: 1, total: 3 });
    // A fresh query starts at its first unreviewed item.
    expect(store.getState().selected).toBe(1);
    store.getState().setScope('all');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(api.calls[1].input).toMatchObject({ scope: 'all' });
  });

  it('signs a review with the reviewer name and the typed note, clears the note and moves to the next unreviewed item', async () => {
    const items = [makeItem(1), makeItem(2), makeItem(3)];
    const api = fakeApi(items);
    const store = createQaStore(() => api.client, async () => 'Carol');
    await store.getState().load(ref);
    store.getState().setNote('label says fail, photo shows a pass');
    await store.getState().markReviewed(store.getState().items[0], 'label_wrong');
    expect(api.calls[1].input).toMatchObject({ ...ref, groupId: 'QC-1', reviewer: 'Carol', status: 'label_wrong', note: 'label says fail, photo shows a pass' });
    const s = store.getState();
    expect(s.items[0].review).toMatchObject({ status: 'label_wrong', reviewer: 'Carol' });
    expect(s.note).toBe('');
    expect(s.selected).toBe(1);
    expect(s.progress).toEqual({ reviewed: 1, total: 3 });
    // Re-reviewing a reviewed item does not count it twice.
    await store.getState().markReviewed(store.getState().items[0], 'ok');
    expect(store.getState().progress.reviewed).toBe(1);
    expect(store.getState().selected).toBe(1);
  });

  it('sends reviewer null when no name was given', async () => {
    const api = fakeApi([makeItem(1)]);
    const store = createQaStore(() => api.client);
    await store.getState().load(ref);
    await store.getState().markReviewed(store.getState().items[0], 'other', 'n/a');
    expect(api.calls[1].input).toMatchObject({ reviewer: null, note: 'n/a' });
  });

  it('undo retracts this window’s last review by id, restores the earlier review, the note and the selection', async () => {
    const api = fakeApi([makeItem(1), makeItem(2), makeItem(3)]);
    const store = createQaStore(() => api.client, async () => 'Dan');
    await store.getState().load(ref);
    await store.getState().markReviewed(store.getState().items[0], 'ok');
    await store.getState().markReviewed(store.getState().items[1], 'model_error', 'ignored the rule on screws');
    expect(store.getState().selected).toBe(2);
    expect(store.getState().progress.reviewed).toBe(2);
    await store.getState().undo();
    expect(api.calls.at(-1)).toEqual({ method: 'qaUndoReview', input: { ...ref, reviewId: 'r2', reviewer: 'Dan' } });
    const s = store.getState();
    expect(s.items[1].review).toBeNull();
    expect(s.items[0].review?.status).toBe('ok');
    expect(s.selected).toBe(1);
    expect(s.note).toBe('ignored the rule on screws');
    expect(s.progress.reviewed).toBe(1);
    expect(s.undoStack).toEqual(['r1']);
    // Undoing a second review of an item brings the first one back as current.
    await store.getState().markReviewed(store.getState().items[0], 'guidance_gap');
    await store.getState().undo();
    expect(store.getState().items[0].review?.status).toBe('ok');
    expect(store.getState().progress.reviewed).toBe(1);
  });

  it('exports the current reviews and the label corrections as JSONL downloads', async () => {
    const api = fakeApi([makeItem(1), makeItem(2)]);
    const store = createQaStore(() => api.client, async () => 'Eve');
    await store.getState().load(ref);
    await store.getState().markReviewed(store.getState().items[0], 'label_wrong', 'wrong');
    await store.getState().markReviewed(store.getState().items[1], 'ok');
    await store.getState().undo();
    const file = await store.getState().exportReviews();
    expect(file?.filename).toBe('demo-m-reviews.jsonl');
    const rows = file!.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toEqual([expect.objectContaining({ group_id: 'QC-1', status: 'label_wrong', note: 'wrong', reviewer: 'Eve' })]);
    const corrections = await store.getState().labelCorrections();
    expect(corrections).toMatchObject({ filename: 'demo-m-label-corrections.jsonl', count: 1 });
    expect(JSON.parse(corrections!.text)).toMatchObject({ group_id: 'QC-1', label: 'pass' });
    expect(store.getState().notice).toContain('1 label_wrong review skipped (no selection)');
  });

  it('shows an API failure as the store error instead of throwing', async () => {
    const api = fakeApi([makeItem(1)]);
    const failing = { ...api.client, markReviewed: async () => { throw new Error('disk full'); } } as unknown as ApiClient;
    const store = createQaStore(() => failing);
    await store.getState().load(ref);
    await store.getState().markReviewed(store.getState().items[0], 'ok');
    expect(store.getState().error?.message).toContain('disk full');
    expect(store.getState().items[0].review).toBeNull();
  });
});
