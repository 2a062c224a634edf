import type { ApiClient } from '../../../shared/api/transport';
import type { ChartsOutput, RunRef } from '../../../shared/api/contract';
import { createResourceStore } from '../../shared/resourceStore';

export function createChartsStore(client: () => ApiClient) {
  return createResourceStore<RunRef, ChartsOutput>((ref) => client().charts(ref));
}

export type ChartsStore = ReturnType<typeof createChartsStore>;
