import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { FoldedQaReview, QaItem, QaReason, RunRef } from '../../../shared/api/contract';
import type { QaReviewStatus } from '../../../shared/schemas/qaReview';
import type { SerializedError } from '../../../shared/errors';
import { toSerializedError } from '../../shared/asyncState';

export type QaStatus = QaReviewStatus;
export type QaScope = 'needs_person' | 'all';

/**
 * One key per review status, on the selected item of the QA list. `r` stays an alias of ok
 * (it was the only key before). Keys the list itself uses (j k g G Enter), the screen keys
 * (digits), `n` (note), `u` (undo), `s` (scope) and `?` `/` are avoided.
 */
export const QA_STATUS_KEYS: ReadonlyArray<{ status: QaStatus; key: string; what: string }> = [
  { status: 'ok', key: 'o', what: 'the verdict and label are right' },
  { status: 'label_wrong', key: 'l', what: 'the ticket’s label is wrong' },
  { status: 'guidance_gap', key: 'e', what: 'the guidance (experiences) lacks a rule' },
  { status: 'model_error', key: 'm', what: 'the model erred despite the guidance' },
  { status: 'other', key: 'x', what: 'something else (say what in the note)' },
];
const KEY_ALIASES: Record<string, QaStatus> = { r: 'ok' };

/** The status a key press on the QA list stands for, or null. */
export function statusForKey(key: string): QaStatus | null {
  return QA_STATUS_KEYS.find((k) => k.key === key)?.status ?? KEY_ALIASES[key] ?? null;
}

/**
 * Where the selection goes after a review of item `from`: the next item without a review,
 * wrapping around; `from` itself when every item is reviewed.
 */
export function nextUnreviewed(items: ReadonlyArray<Pick<QaItem, 'review'>>, from: number): number {
  for (let step = 1; step <= items.length; step += 1) {
    const index = (from + step) % items.length;
    if (!items[index].review) return index;
  }
  return from;
}

/** JSONL text, one JSON value a line, as the CLI's `stageb reviews export` / `corrections` write them. */
export function toJsonl(rows: readonly unknown[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

const sameItem = (a: Pick<QaItem, 'group_id' | 'ticket_key' | 'epoch'>, b: Pick<FoldedQaReview, 'group_id' | 'ticket_key' | 'epoch'>) =>
  a.group_id === b.group_id && (a.ticket_key ?? null) === (b.ticket_key ?? null) && (a.epoch ?? null) === (b.epoch ?? null);

export type QaDownload = { filename: string; text: string; count: number };

export type QaState = {
  ref: RunRef | null;
  reason: QaReason | null;
  scope: QaScope;
  includeReviewed: boolean;
  items: QaItem[];
  total: number;
  /** From the API: of the items in scope, how many have a current review. */
  progress: { reviewed: number; total: number };
  loading: boolean;
  error: SerializedError | null;
  selected: number;
  /** The note typed for the next review; cleared once a review carries it. */
  note: string;
  /** Ids of this window's reviews, newest last: `u` takes back the last one. */
  undoStack: string[];
  /** What the last review, undo or export did, for the status line. */
  notice: string | null;
  load(ref: RunRef): Promise<void>;
  setReason(reason: QaReason | null): void;
  setScope(scope: QaScope): void;
  setIncludeReviewed(value: boolean): void;
  select(index: number): void;
  setNote(note: string): void;
  /** Reviews `item` with the typed note (or `note`), then selects the next unreviewed item. */
  markReviewed(item: QaItem, status: QaStatus, note?: string): Promise<void>;
  /** Takes back this window's last review (or, with none, the reviewer's latest) and selects its item. */
  undo(): Promise<void>;
  exportReviews(): Promise<QaDownload | null>;
  labelCorrections(): Promise<QaDownload | null>;
};

export function createQaStore(client: () => ApiClient, reviewer: () => Promise<string | null> = async () => null) {
  let generation = 0;
  /** The query the items were last loaded for: a new one starts at its first unreviewed item. */
  let loadedQuery = '';
  return createStore<QaState>()((set, get) => {
    const reload = () => {
      const { ref } = get();
      if (ref) void get().load(ref);
    };
    /** The state after `review` became the current one of `match`'s item (null: it has none now), in one update. */
    const withReview = (match: Pick<FoldedQaReview, 'group_id' | 'ticket_key' | 'epoch'>, review: FoldedQaReview | null): { index: number; patch: Partial<Pick<QaState, 'items' | 'progress'>> } => {
      const { items, progress } = get();
      const index = items.findIndex((x) => sameItem(x, match));
      if (index < 0) return { index, patch: {} };
      const delta = (review ? 1 : 0) - (items[index].review ? 1 : 0);
      return {
        index,
        patch: {
          items: items.map((x, i) => (i === index ? { ...x, review } : x)),
          progress: { ...progress, reviewed: Math.max(0, Math.min(progress.total, progress.reviewed + delta)) },
        },
      };
    };
    return {
      ref: null,
      reason: null,
      scope: 'needs_person',
      includeReviewed: true,
      items: [],
      total: 0,
      progress: { reviewed: 0, total: 0 },
      loading: false,
      error: null,
      selected: 0,
      note: '',
      undoStack: [],
      notice: null,
      async load(ref) {
        const mine = ++generation;
        set({ ref, loading: true, error: null });
        try {
          const { reason, includeReviewed, scope } = get();
          const out = await client().qaQueue({ ...ref, reason: reason ?? undefined, scope, includeReviewed, offset: 0, limit: 500 });
          if (mine !== generation) return;
          const query = JSON.stringify([ref.runId, ref.mission, reason, scope, includeReviewed]);
          const fresh = query !== loadedQuery;
          loadedQuery = query;
          const first = out.items.length ? Math.max(0, out.items.findIndex((x) => !x.review)) : 0;
          const selected = fresh ? first : Math.min(get().selected, Math.max(0, out.items.length - 1));
          set({ items: out.items, total: out.total, progress: out.progress, selected });
        } catch (error) {
          if (mine === generation) set({ error: toSerializedError(error) });
        } finally {
          if (mine === generation) set({ loading: false });
        }
      },
      setReason(reason) {
        set({ reason, selected: 0 });
        reload();
      },
      setScope(scope) {
        set({ scope, selected: 0 });
        reload();
      },
      setIncludeReviewed(includeReviewed) {
        set({ includeReviewed });
        reload();
      },
      select(selected) {
        set({ selected });
      },
      setNote(note) {
        set({ note });
      },
      async markReviewed(item, status, note = get().note) {
        const { ref } = get();
        if (!ref) return;
        try {
          const name = await reviewer();
          const { review } = await client().markReviewed({ ...ref, groupId: item.group_id, ticketKey: item.ticket_key, epoch: item.epoch, status, note, reviewer: name });
          const { index, patch } = withReview(item, review);
          set({
            ...patch,
            note: '',
            undoStack: [...get().undoStack, review.review_id],
            selected: index >= 0 && patch.items ? nextUnreviewed(patch.items, index) : get().selected,
            notice: `${item.group_id}: ${status}${note ? ' (with a note)' : ''}`,
            error: null,
          });
        } catch (error) {
          set({ error: toSerializedError(error) });
        }
      },
      async undo() {
        const { ref, undoStack } = get();
        if (!ref) return;
        try {
          const name = await reviewer();
          const reviewId = undoStack[undoStack.length - 1];
          const { retracted, current } = await client().qaUndoReview({ ...ref, reviewId, reviewer: name });
          const { index, patch } = withReview(retracted, current);
          set({
            ...patch,
            undoStack: reviewId ? undoStack.slice(0, -1) : undoStack,
            selected: index >= 0 ? index : get().selected,
            // The retracted note comes back, so a slip of the key does not lose what was typed.
            note: retracted.note,
            notice: `undid ${retracted.group_id}: ${retracted.status}${current ? ` (now ${current.status} again)` : ''}`,
            error: null,
          });
        } catch (error) {
          set({ error: toSerializedError(error) });
        }
      },
      async exportReviews() {
        const { ref } = get();
        if (!ref) return null;
        try {
          const { rows } = await client().qaExportReviews(ref);
          set({ notice: `exported ${rows.length} review${rows.length === 1 ? '' : 's'}`, error: null });
          return { filename: `${ref.runId}-${ref.mission}-reviews.jsonl`, text: toJsonl(rows), count: rows.length };
        } catch (error) {
          set({ error: toSerializedError(error) });
          return null;
        }
      },
      async labelCorrections() {
        const { ref } = get();
        if (!ref) return null;
        try {
          const { corrections, skipped } = await client().qaLabelCorrections(ref);
          set({ notice: `${corrections.length} label correction${corrections.length === 1 ? '' : 's'}${skipped.length ? `, ${skipped.length} label_wrong review${skipped.length === 1 ? '' : 's'} skipped (${skipped.map((x) => x.reason).join('; ')})` : ''}`, error: null });
          return { filename: `${ref.runId}-${ref.mission}-label-corrections.jsonl`, text: toJsonl(corrections), count: corrections.length };
        } catch (error) {
          set({ error: toSerializedError(error) });
          return null;
        }
      },
    };
  });
}

export type QaStore = ReturnType<typeof createQaStore>;
