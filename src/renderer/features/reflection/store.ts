import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { ReflectionLogOutput, RunRef } from '../../../shared/api/contract';
import { createResourceStore } from '../../shared/resourceStore';

export type ReflectionArgs = RunRef & { appliedOnly: boolean; limit: number };

export function createReflectionStore(client: () => ApiClient) {
  const log = createResourceStore<ReflectionArgs, ReflectionLogOutput>((args) => client().reflectionLog({ ...args, offset: 0 }));
  const view = createStore<{ selected: number; select(i: number): void }>()((set) => ({ selected: 0, select: (selected) => set({ selected }) }));
  return { log, view };
}

export type ReflectionStores = ReturnType<typeof createReflectionStore>;
