import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { QaItem, QaReason, RunRef } from '../../../shared/api/contract';
import type { SerializedError } from '../../../shared/errors';
import { toSerializedError } from '../../shared/asyncState';

export type QaStatus = 'ok' | 'label_wrong' | 'guidance_gap' | 'model_error' | 'other';

export type QaState = {
  ref: RunRef | null;
  reason: QaReason | null;
  includeReviewed: boolean;
  items: QaItem[];
  total: number;
  loading: boolean;
  error: SerializedError | null;
  selected: number;
  load(ref: RunRef): Promise<void>;
  setReason(reason: QaReason | null): void;
  setIncludeReviewed(value: boolean): void;
  select(index: number): void;
  markReviewed(item: QaItem, status: QaStatus, note?: string): Promise<void>;
};

export function createQaStore(client: () => ApiClient, reviewer: () => Promise<string | null> = async () => null) {
  let generation = 0;
  return createStore<QaState>()((set, get) => ({
    ref: null,
    reason: null,
    includeReviewed: true,
    items: [],
    total: 0,
    loading: false,
    error: null,
    selected: 0,
    async load(ref) {
      const mine = ++generation;
      set({ ref, loading: true, error: null });
      try {
        const { reason, includeReviewed } = get();
        const out = await client().qaQueue({ ...ref, reason: reason ?? undefined, includeReviewed, offset: 0, limit: 500 });
        if (mine !== generation) return;
        set({ items: out.items, total: out.total, selected: Math.min(get().selected, Math.max(0, out.items.length - 1)) });
      } catch (error) {
        if (mine === generation) set({ error: toSerializedError(error) });
      } finally {
        if (mine === generation) set({ loading: false });
      }
    },
    setReason(reason) {
      set({ reason, selected: 0 });
      const { ref } = get();
      if (ref) void get().load(ref);
    },
    setIncludeReviewed(includeReviewed) {
      set({ includeReviewed });
      const { ref } = get();
      if (ref) void get().load(ref);
    },
    select(selected) {
      set({ selected });
    },
    async markReviewed(item, status, note = '') {
      const { ref } = get();
      if (!ref) return;
      try {
        const name = await reviewer();
        const { review } = await client().markReviewed({ ...ref, groupId: item.group_id, ticketKey: item.ticket_key, epoch: item.epoch, status, note, reviewer: name });
        set({ items: get().items.map((x) => (x === item ? { ...x, review } : x)), error: null });
      } catch (error) {
        set({ error: toSerializedError(error) });
      }
    },
  }));
}

export type QaStore = ReturnType<typeof createQaStore>;
