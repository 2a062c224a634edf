import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import type { GroupDetailOutput, GroupOrder } from '../../../shared/api/contract';
import { createGroupStore } from './store';

const RUN = { runId: 'r', mission: 'm' };
/** The run's group order, and a table order (another filter and sort) over some of them. */
const RUN_ORDER = ['QC-1', 'QC-2', 'QC-3', 'QC-4'];
const TABLE_ROWS = ['QC-4', 'QC-4', 'QC-2', 'QC-1'];
const TABLE: GroupOrder = { kind: 'trajectories', filters: { label: 'fail' }, sort: { field: 'confidence', dir: 'desc' } };

/** A fake server: neighbors as groupDetail computes them, over the run order or the table's rows. */
function fakeClient() {
  const calls: { groupId: string; order?: GroupOrder }[] = [];
  const client = {
    async groupDetail(input: { groupId: string; order?: GroupOrder }): Promise<GroupDetailOutput> {
      calls.push({ groupId: input.groupId, order: input.order });
      const rows = input.order ? TABLE_ROWS : RUN_ORDER;
      const hinted = input.order?.index;
      const index = hinted !== undefined && rows[hinted] === input.groupId ? hinted : rows.indexOf(input.groupId);
      const neighbor = (step: number) => {
        for (let k = index + step; k >= 0 && k < rows.length; k += step) if (rows[k] !== input.groupId) return { group_id: rows[k], index: k };
        return null;
      };
      return {
        groupId: input.groupId,
        tickets: [],
        ticketError: null,
        candidates: [{}, {}, {}] as GroupDetailOutput['candidates'],
        selections: [],
        needReview: null,
        guidance: null,
        reviews: [],
        prompts: [],
        constraint: null,
        neighbors: { source: input.order ? 'table' : 'run', index, total: rows.length, previous: neighbor(-1), next: neighbor(1) },
      };
    },
  } as unknown as ApiClient;
  return { client, calls };
}

const shown = (store: ReturnType<typeof createGroupStore>) => {
  const state = store.getState().state;
  return state.status === 'ready' ? state.data.groupId : null;
};

describe('group store: previous / next group', () => {
  it('steps through the run order when the group was opened directly', async () => {
    const { client, calls } = fakeClient();
    const store = createGroupStore(() => client);
    await store.getState().load({ ...RUN, groupId: 'QC-2' });
    expect(await store.getState().step(1)).toBe('QC-3');
    expect(shown(store)).toBe('QC-3');
    expect(await store.getState().step(1)).toBe('QC-4');
    expect(await store.getState().step(1)).toBeNull();
    expect(shown(store)).toBe('QC-4');
    expect(await store.getState().step(-1)).toBe('QC-3');
    expect(calls.every((call) => call.order === undefined)).toBe(true);
  });

  it('steps through the table order it was opened from, skipping the group\'s other rows', async () => {
    const { client, calls } = fakeClient();
    const store = createGroupStore(() => client);
    store.getState().openFromTable('QC-4', { ...TABLE, index: 0 });
    await store.getState().load({ ...RUN, groupId: 'QC-4' });
    expect(calls[0].order).toEqual({ ...TABLE, index: 0 });
    expect(await store.getState().step(1)).toBe('QC-2');
    expect(calls.at(-1)).toEqual({ groupId: 'QC-2', order: { ...TABLE, index: 2 } });
    expect(await store.getState().step(1)).toBe('QC-1');
    expect(await store.getState().step(1)).toBeNull();
    expect(await store.getState().step(-1)).toBe('QC-2');
    expect(await store.getState().step(-1)).toBe('QC-4');
    expect(calls.at(-1)).toEqual({ groupId: 'QC-4', order: { ...TABLE, index: 1 } });
    expect(await store.getState().step(-1)).toBeNull();
  });

  it('forgets a table order when another group is opened directly', async () => {
    const { client, calls } = fakeClient();
    const store = createGroupStore(() => client);
    store.getState().openFromTable('QC-4', TABLE);
    await store.getState().load({ ...RUN, groupId: 'QC-1' });
    expect(calls[0].order).toBeUndefined();
    expect(await store.getState().step(1)).toBe('QC-2');
  });

  it('does not fetch the group already shown again, and selects candidates within range', async () => {
    const { client, calls } = fakeClient();
    const store = createGroupStore(() => client);
    await store.getState().load({ ...RUN, groupId: 'QC-1' });
    await store.getState().load({ ...RUN, groupId: 'QC-1' });
    expect(calls).toHaveLength(1);
    expect(store.getState().candidate).toBe(0);
    store.getState().selectCandidate(2);
    expect(store.getState().candidate).toBe(2);
    store.getState().selectCandidate(9);
    expect(store.getState().candidate).toBe(2);
    store.getState().selectCandidate(-3);
    expect(store.getState().candidate).toBe(0);
    await store.getState().step(1);
    expect(store.getState().candidate).toBe(0);
  });
});
