import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import { GuidanceStateSchema } from '../../../shared/schemas/guidance';
import { createSnapshotsStore } from './store';

const ref = { runId: 'demo', mission: 'm' };
const state = (step: number) => GuidanceStateSchema.parse({ step, updated_at: new Date(Date.UTC(2026, 0, 1, 0, step)).toISOString(), experiences: { G0: `g${step}` }, metadata: {} });

describe('snapshots store', () => {
  it('rolls back on the current step, named by the reviewer', async () => {
    const calls: unknown[] = [];
    const client = {
      listSnapshots: async () => ({ snapshots: [{ name: 'step_000001.json', step: 1, updated_at: '2026-01-01T00:01:00.000Z', size_bytes: 10 }] }),
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
