import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import { createCompareStore, type ComparePick } from './store';

function fakeClient() {
  const calls: Array<{ a: ComparePick; b: ComparePick }> = [];
  const client = {
    compare: async (input: { a: ComparePick; b: ComparePick }) => {
      calls.push(input);
      return { sides: { a: { ...input.a, name: 'a' }, b: { ...input.b, name: 'b' } } };
    },
    runSteps: async () => ({ steps: [{ step: 0, groups: 4, epochs: [0] }] }),
    listRuns: async () => ({ runs: [] }),
  } as unknown as ApiClient;
  return { client: () => client, calls };
}

const run = (runId: string, step: number | null = null): ComparePick => ({ runId, mission: 'M', step });

describe('compare picks', () => {
  it('fills A, then B, compares them, and starts over at A on a third pick', async () => {
    const { client, calls } = fakeClient();
    const stores = createCompareStore(client);
    const picks = stores.picks.getState();
    picks.pickNext(run('r1'));
    expect(calls).toEqual([]);
    picks.pickNext(run('r2'));
    expect(calls).toEqual([{ a: run('r1'), b: run('r2') }]);
    picks.pickNext(run('r3'));
    expect(stores.picks.getState()).toMatchObject({ a: run('r3'), b: null });
    expect(calls).toHaveLength(1);
  });

  it('marks a side explicitly (the runs screen), swaps, and compares whenever both are set', () => {
    const { client, calls } = fakeClient();
    const stores = createCompareStore(client);
    stores.picks.getState().mark('b', run('r2'));
    stores.picks.getState().mark('a', run('r1'));
    stores.picks.getState().swap();
    expect(calls).toEqual([{ a: run('r1'), b: run('r2') }, { a: run('r2'), b: run('r1') }]);
  });

  it('switching between runs and steps starts over, and steps mode lists the run\'s steps', async () => {
    const { client } = fakeClient();
    const stores = createCompareStore(client);
    stores.picks.getState().pickNext(run('r1'));
    stores.picks.getState().setMode('steps');
    expect(stores.picks.getState()).toMatchObject({ mode: 'steps', a: null, b: null });
    stores.picks.getState().openSteps({ runId: 'r1', mission: 'M' });
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(stores.steps.getState().state).toEqual({ status: 'ready', data: [{ step: 0, groups: 4, epochs: [0] }] });
  });
});
