import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import type { ReviewQueueItem } from '../../../shared/api/contract';
import { proposalRows, missingRules } from './proposalRows';
import { createReviewQueueStore } from './store';

const ref = { runId: 'demo', mission: 'BBU接地线检查' };

function item(id: string, extra: Partial<ReviewQueueItem> = {}): ReviewQueueItem {
  return {
    item_id: id, mission: ref.mission, reflection_id: 'refl-e0-c1-ab', epoch: 0, batch_index: 1, cycle: 1, guidance_step: 3,
    operation: { op: 'modify', key: 'G2', text: '引擎的新文本', evidence: ['QC-1::fail'] },
    rule_ids: { G2: 'R-aaaa1111' },
    targets: [{ key: 'G2', rule_id: 'R-aaaa1111', reason: 'latest author is a person (Alice)', text: 'Alice 的规则' }],
    created_at: 't', status: 'pending', decision: null,
    now: [{ rule_id: 'R-aaaa1111', key: 'G1', text: 'Alice 的规则' }],
    ...extra,
  };
}

function fakeQueue(items: ReviewQueueItem[]) {
  const calls: Array<{ method: string; itemId: string; author: string | null; note: string }> = [];
  let failNext = false;
  const decide = (method: 'accept' | 'dismiss') => async (input: { itemId: string; author: string | null; note: string }) => {
    calls.push({ method, ...input });
    if (failNext) {
      failNext = false;
      throw Object.assign(new Error('moved'), { code: 'GUIDANCE_STEP_CONFLICT', message: 'guidance moved from step 4 to 5', location: {} });
    }
    const i = items.findIndex((x) => x.item_id === input.itemId);
    items[i] = { ...items[i], status: method === 'accept' ? 'accepted' : 'dismissed', decision: { decision: method === 'accept' ? 'accepted' : 'dismissed', by: input.author, guidance_step_after: method === 'accept' ? 5 : null, note: input.note, created_at: 't2' } };
    return method === 'accept' ? { item: items[i], state: { step: 5 } } : { item: items[i] };
  };
  const client = {
    reviewQueue: async (input: { status: string }) => ({
      items: items.filter((i) => input.status === 'all' || i.status === input.status),
      pending: items.filter((i) => i.status === 'pending').length,
    }),
    reviewAccept: decide('accept'),
    reviewDismiss: decide('dismiss'),
  } as unknown as ApiClient;
  return { client, calls, failOnce: () => (failNext = true) };
}

describe('review queue store', () => {
  it('accepts the selected item with a note and the reviewer name, then shows what it wrote', async () => {
    const queue = fakeQueue([item('rq-1'), item('rq-2')]);
    const store = createReviewQueueStore(() => queue.client, async () => 'Alice');
    await store.getState().load(ref);
    expect(store.getState()).toMatchObject({ pending: 2, selectedId: 'rq-1' });
    store.getState().select('rq-2');
    store.getState().begin('accept');
    expect(store.getState().deciding).toEqual({ itemId: 'rq-2', kind: 'accept' });
    store.getState().setNote('看过证据，同意');
    await store.getState().confirm();
    expect(queue.calls).toEqual([{ ...ref, method: 'accept', itemId: 'rq-2', author: 'Alice', note: '看过证据，同意' }]);
    expect(store.getState()).toMatchObject({ deciding: null, pending: 1, done: 'Accepted by Alice: the guidance is now step 5.' });
    expect(store.getState().items.map((i) => i.item_id)).toEqual(['rq-1']);
  });

  it('keeps the dialog and note open on a failed decision, and refuses to decide a decided item', async () => {
    const queue = fakeQueue([item('rq-1'), item('rq-9', { status: 'dismissed' })]);
    const store = createReviewQueueStore(() => queue.client, async () => null);
    await store.getState().load(ref);
    store.getState().begin('dismiss', 'rq-1');
    store.getState().setNote('重复');
    queue.failOnce();
    await store.getState().confirm();
    expect(store.getState().error?.code).toBe('GUIDANCE_STEP_CONFLICT');
    expect(store.getState()).toMatchObject({ deciding: { itemId: 'rq-1', kind: 'dismiss' }, note: '重复' });
    await store.getState().confirm();
    expect(store.getState().done).toBe('Dismissed by an unnamed reviewer; the rule stays as it is.');
    store.getState().setFilter('all');
    await store.getState().refresh();
    store.getState().begin('accept', 'rq-9');
    expect(store.getState().deciding).toBeNull();
  });
});

describe('proposalRows', () => {
  it('matches the queued key to the rule now by rule_id, after renumbering', () => {
    const [row] = proposalRows(item('rq-1'));
    expect(row).toMatchObject({ keyThen: 'G2', keyNow: 'G1', textNow: 'Alice 的规则', proposed: '引擎的新文本', effect: 'modify' });
  });
  it('shows a merge as the target with its merged text and the folded rules, and flags rules that are gone', () => {
    const merge = item('rq-2', {
      operation: { op: 'merge', key: 'G1', text: '合并后的规则', merge_from: ['G1', 'G3'], evidence: [] },
      rule_ids: { G1: 'R-one11111', G3: 'R-three333' },
      targets: [{ key: 'G3', rule_id: 'R-three333', reason: 'person', text: '三' }],
      now: [{ rule_id: 'R-one11111', key: 'G1', text: '一' }, { rule_id: 'R-three333', key: null, text: null }],
    });
    expect(proposalRows(merge).map((r) => [r.keyThen, r.keyNow, r.effect, r.proposed])).toEqual([
      ['G1', 'G1', 'merge_into', '合并后的规则'],
      ['G3', null, 'merge_from', null],
    ]);
    expect(missingRules(merge)).toEqual(['G3']);
  });
});
