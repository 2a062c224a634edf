import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import { GuidanceStateSchema } from '../../../shared/schemas/guidance';
import { createSnapshotsStore } from './store';

const ref = { runId: 'demo', mission: 'm' };
const state = (step: number) => GuidanceStateSchema.parse({ step, updated_at: `t${step}`, experiences: { G0: `g${step}` }, metadata: {} });

describe('snapshots store', () => {
  it('rolls back on the current step, named by the reviewer', async () => {
    const calls: unknown[] = [];
    const client = {
      listSnapshots: async () => ({ snapshots: [{ name: 'step_000001.json', step: 1, updated_at: 't1', size_bytes: 10 }] }),
      guidanceRead: async () => ({ state: state(2) }),
      readSnapshot: async () => ({ name: 'step_000001.json', state: state(1) }),
      guidanceRollback: async (input: unknown) => (calls.push(input), { status: 'ok', state: state(3) }),
    } as unknown as ApiClient;
    const store = createSnapshotsStore(() => client, async () => 'Alice');
    await store.getState().load(ref);
    await store.getState().openPreview(0);
    store.getState().askRollback();
    await store.getState().rollback();
    expect(calls).toEqual([{ ...ref, snapshot: 'step_000001.json', baseStep: 2, author: 'Alice' }]);
  });
});
