import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import type { QaItem } from '../../../shared/api/contract';
import { createQaStore } from './store';

const ref = { runId: 'demo', mission: 'm' };
const item: QaItem = { group_id: 'QC-1', ticket_key: 'QC-1::fail', epoch: 0, label: 'fail', verdict: 'pass', reasons: ['critique'], critique: null, ineligible_reason: null, warnings: [], need_review: false, review: null };

describe('QA store', () => {
  it('signs a review with the reviewer name, or null when none was given', async () => {
    const calls: Array<{ reviewer: string | null }> = [];
    const client = {
      qaQueue: async () => ({ total: 1, offset: 0, items: [item] }),
      markReviewed: async (input: { reviewer: string | null; status: string; note: string }) => (calls.push(input), { review: { group_id: 'QC-1', ticket_key: 'QC-1::fail', epoch: 0, status: input.status, note: input.note, reviewer: input.reviewer, created_at: 't' } }),
    } as unknown as ApiClient;
    const named = createQaStore(() => client, async () => 'Carol');
    await named.getState().load(ref);
    await named.getState().markReviewed(named.getState().items[0], 'ok');
    expect(calls[0]).toMatchObject({ ...ref, groupId: 'QC-1', reviewer: 'Carol', status: 'ok' });
    expect(named.getState().items[0].review?.reviewer).toBe('Carol');
    const unnamed = createQaStore(() => client);
    await unnamed.getState().load(ref);
    await unnamed.getState().markReviewed(unnamed.getState().items[0], 'label_wrong');
    expect(calls[1].reviewer).toBeNull();
  });
});
