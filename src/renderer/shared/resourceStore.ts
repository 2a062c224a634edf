import { createStore } from 'zustand/vanilla';
import { toSerializedError, type AsyncState } from './asyncState';

export type ResourceState<A, T> = {
  args: A | null;
  state: AsyncState<T>;
  load(args: A): Promise<void>;
  reload(): Promise<void>;
};

/** A fetched value with loading / error states; answers to superseded loads are dropped. */
export function createResourceStore<A, T>(fetcher: (args: A) => Promise<T>) {
  let generation = 0;
  return createStore<ResourceState<A, T>>()((set, get) => ({
    args: null,
    state: { status: 'idle' },
    async load(args) {
      const mine = ++generation;
      const previous = get().state;
      set({ args, state: { status: 'loading', data: 'data' in previous ? previous.data : undefined } });
      try {
        const data = await fetcher(args);
        if (mine === generation) set({ state: { status: 'ready', data } });
      } catch (error) {
        if (mine === generation) set({ state: { status: 'error', error: toSerializedError(error) } });
      }
    },
    async reload() {
      const { args } = get();
      if (args !== null) await get().load(args);
    },
  }));
}
