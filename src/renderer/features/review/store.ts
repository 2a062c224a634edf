import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { ReviewQueueItem, RunRef } from '../../../shared/api/contract';
import type { SerializedError } from '../../../shared/errors';
import { toSerializedError } from '../../shared/asyncState';

export type ReviewFilter = 'pending' | 'all';
export type ReviewDecisionKind = 'accept' | 'dismiss';

export type ReviewQueueState = {
  ref: RunRef | null;
  filter: ReviewFilter;
  items: ReviewQueueItem[];
  pending: number;
  selectedId: string | null;
  loading: boolean;
  error: SerializedError | null;
  /** The decision being written: the dialog with its note is open while this is set. */
  deciding: { itemId: string; kind: ReviewDecisionKind } | null;
  note: string;
  busy: boolean;
  /** What the last decision did, in words ("Accepted by Alice: guidance is now step 4"). */
  done: string | null;
  load(ref: RunRef): Promise<void>;
  refresh(): Promise<void>;
  setFilter(filter: ReviewFilter): void;
  select(itemId: string): void;
  begin(kind: ReviewDecisionKind, itemId?: string): void;
  setNote(note: string): void;
  cancel(): void;
  confirm(): Promise<void>;
};

/**
 * The review queue of protected rules: reflection's proposals wait here until a person
 * accepts (written through the guidance compare-and-swap, recorded as approved by them)
 * or dismisses them, each with a note.
 */
export function createReviewQueueStore(client: () => ApiClient, author: () => Promise<string | null> = async () => null) {
  let generation = 0;
  return createStore<ReviewQueueState>()((set, get) => {
    async function fetch(ref: RunRef, quiet: boolean) {
      const mine = ++generation;
      if (!quiet) set({ loading: true });
      try {
        const out = await client().reviewQueue({ ...ref, status: get().filter });
        if (mine !== generation) return;
        const { selectedId } = get();
        const keep = out.items.some((i) => i.item_id === selectedId);
        set({ items: out.items, pending: out.pending, selectedId: keep ? selectedId : (out.items[0]?.item_id ?? null), error: null });
      } catch (error) {
        if (mine === generation) set({ error: toSerializedError(error) });
      } finally {
        if (mine === generation) set({ loading: false });
      }
    }
    return {
      ref: null,
      filter: 'pending',
      items: [],
      pending: 0,
      selectedId: null,
      loading: false,
      error: null,
      deciding: null,
      note: '',
      busy: false,
      done: null,
      async load(ref) {
        const same = get().ref?.runId === ref.runId && get().ref?.mission === ref.mission;
        set({ ref, ...(same ? {} : { items: [], selectedId: null, done: null, deciding: null }) });
        await fetch(ref, same && get().items.length > 0);
      },
      async refresh() {
        const { ref, busy } = get();
        if (ref && !busy) await fetch(ref, true);
      },
      setFilter(filter) {
        set({ filter });
        const { ref } = get();
        if (ref) void fetch(ref, false);
      },
      select(itemId) {
        set({ selectedId: itemId });
      },
      begin(kind, itemId) {
        const id = itemId ?? get().selectedId;
        const item = get().items.find((i) => i.item_id === id);
        if (!item || item.status !== 'pending') return;
        set({ deciding: { itemId: item.item_id, kind }, note: '', selectedId: item.item_id, done: null, error: null });
      },
      setNote(note) {
        set({ note });
      },
      cancel() {
        if (!get().busy) set({ deciding: null, note: '' });
      },
      async confirm() {
        const { ref, deciding, note, busy } = get();
        if (!ref || !deciding || busy) return;
        set({ busy: true, error: null });
        try {
          const name = await author();
          const by = name ?? 'an unnamed reviewer';
          if (deciding.kind === 'accept') {
            const out = await client().reviewAccept({ ...ref, itemId: deciding.itemId, author: name, note });
            set({ done: `Accepted by ${by}: the guidance is now step ${out.state.step}.` });
          } else {
            await client().reviewDismiss({ ...ref, itemId: deciding.itemId, author: name, note });
            set({ done: `Dismissed by ${by}; the rule stays as it is.` });
          }
          set({ deciding: null, note: '' });
          set({ busy: false });
          await fetch(ref, true);
        } catch (error) {
          // The dialog stays open with the note: a lost race (GUIDANCE_STEP_CONFLICT) is retried by confirming again.
          set({ busy: false });
          await fetch(ref, true);
          set({ error: toSerializedError(error) });
        }
      },
    };
  });
}

export type ReviewQueueStore = ReturnType<typeof createReviewQueueStore>;
