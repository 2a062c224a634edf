import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { RunSummary } from '../../../shared/api/contract';
import { createResourceStore } from '../../shared/resourceStore';

export function createRunsStore(client: () => ApiClient) {
  const runs = createResourceStore<void, RunSummary[]>(async () => (await client().listRuns({})).runs);
  const selection = createStore<{ selected: number; select(i: number): void }>()((set) => ({ selected: 0, select: (selected) => set({ selected }) }));
  return { runs, selection };
}

export type RunsStores = ReturnType<typeof createRunsStore>;
