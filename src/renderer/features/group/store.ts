import type { ApiClient } from '../../../shared/api/transport';
import type { GroupDetailOutput, RunRef } from '../../../shared/api/contract';
import { createResourceStore } from '../../shared/resourceStore';

export type GroupArgs = RunRef & { groupId: string };

export function createGroupStore(client: () => ApiClient) {
  return createResourceStore<GroupArgs, GroupDetailOutput>((args) => client().groupDetail(args));
}

export type GroupStore = ReturnType<typeof createGroupStore>;
