import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { GroupDetailOutput, GroupOrder, RunRef } from '../../../shared/api/contract';
import { toSerializedError, type AsyncState } from '../../shared/asyncState';

export type GroupArgs = RunRef & { groupId: string };

export type GroupState = {
  args: GroupArgs | null;
  state: AsyncState<GroupDetailOutput>;
  /**
   * The table order the shown group was opened from (the trajectories table's filter and
   * sort, and the row): previous/next move through it. null: the run's group order.
   */
  order: { groupId: string; order: GroupOrder } | null;
  /** The selected candidate (an index into the detail's candidates); its prompt is shown. */
  candidate: number;
  /** Shows the group (again only when it is not the one already shown or loading). */
  load(args: GroupArgs): Promise<void>;
  reload(): Promise<void>;
  /** Remembers the table order a group is about to be opened from. */
  openFromTable(groupId: string, order: GroupOrder): void;
  /** Shows the next (+1) or previous (-1) group of the order; resolves to its id, or null at either end. */
  step(delta: 1 | -1): Promise<string | null>;
  selectCandidate(index: number): void;
};

const sameArgs = (a: GroupArgs | null, b: GroupArgs) => a !== null && a.runId === b.runId && a.mission === b.mission && a.groupId === b.groupId;

/** The group detail: one group at a time, its place in the order it was opened from, and the selected candidate. */
export function createGroupStore(client: () => ApiClient) {
  let generation = 0;
  return createStore<GroupState>()((set, get) => {
    async function fetch(args: GroupArgs): Promise<void> {
      const mine = ++generation;
      const { order } = get();
      const previous = get().state;
      set({ args, state: { status: 'loading', data: 'data' in previous ? previous.data : undefined } });
      try {
        const tableOrder = order && order.groupId === args.groupId ? order.order : undefined;
        const data = await client().groupDetail({ ...args, ...(tableOrder ? { order: tableOrder } : {}) });
        if (mine === generation) set({ state: { status: 'ready', data }, candidate: data.candidates.length > 0 ? 0 : -1 });
      } catch (error) {
        if (mine === generation) set({ state: { status: 'error', error: toSerializedError(error) } });
      }
    }

    return {
      args: null,
      state: { status: 'idle' },
      order: null,
      candidate: -1,
      async load(args) {
        const { state } = get();
        if (sameArgs(get().args, args) && (state.status === 'loading' || state.status === 'ready')) return;
        await fetch(args);
      },
      async reload() {
        const { args } = get();
        if (args) await fetch(args);
      },
      openFromTable(groupId, order) {
        set({ order: { groupId, order } });
      },
      async step(delta) {
        const { args, state, order } = get();
        if (!args || state.status !== 'ready' || !state.data.neighbors) return null;
        const target = delta > 0 ? state.data.neighbors.next : state.data.neighbors.previous;
        if (!target) return null;
        // Only a table order carries on; the run's order is what a group opened directly steps through anyway.
        if (order && order.groupId === args.groupId) set({ order: { groupId: target.group_id, order: { ...order.order, index: target.index } } });
        else set({ order: null });
        await fetch({ ...args, groupId: target.group_id });
        return target.group_id;
      },
      selectCandidate(index) {
        const { state } = get();
        const count = state.status === 'ready' ? state.data.candidates.length : 0;
        set({ candidate: count === 0 ? -1 : Math.min(Math.max(index, 0), count - 1) });
      },
    };
  });
}

export type GroupStore = ReturnType<typeof createGroupStore>;
