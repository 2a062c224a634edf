import type { ApiClient } from '../../../shared/api/transport';
import type { ReflectionLogOutput, RunRef } from '../../../shared/api/contract';
import { createResourceStore } from '../../shared/resourceStore';

export type ReflectionArgs = RunRef & { appliedOnly: boolean; limit: number };

export function createReflectionStore(client: () => ApiClient) {
  const log = createResourceStore<ReflectionArgs, ReflectionLogOutput>((args) => client().reflectionLog({ ...args, offset: 0 }));
  // The selected decision is the route's (?decision=<reflection_id>), not a store's.
  return { log };
}

export type ReflectionStores = ReturnType<typeof createReflectionStore>;
