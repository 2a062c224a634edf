import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { GuidanceWriteResult, RunRef, SnapshotInfo } from '../../../shared/api/contract';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import type { SerializedError } from '../../../shared/errors';
import { toSerializedError } from '../../shared/asyncState';

export type SnapshotsState = {
  ref: RunRef | null;
  snapshots: SnapshotInfo[];
  current: GuidanceState | null;
  loading: boolean;
  error: SerializedError | null;
  selected: number;
  preview: { name: string; state: GuidanceState } | null;
  previewError: SerializedError | null;
  confirming: boolean;
  rollingBack: boolean;
  result: GuidanceWriteResult | null;
  load(ref: RunRef): Promise<void>;
  select(index: number): void;
  openPreview(index: number): Promise<void>;
  askRollback(): void;
  cancelRollback(): void;
  rollback(): Promise<void>;
};

/** Snapshot history; a rollback is a new step based on the current one (never a deletion). */
export function createSnapshotsStore(client: () => ApiClient, author: () => Promise<string | null> = async () => null) {
  return createStore<SnapshotsState>()((set, get) => ({
    ref: null,
    snapshots: [],
    current: null,
    loading: false,
    error: null,
    selected: 0,
    preview: null,
    previewError: null,
    confirming: false,
    rollingBack: false,
    result: null,
    async load(ref) {
      set({ ref, loading: true, error: null });
      try {
        const [{ snapshots }, { state }] = await Promise.all([client().listSnapshots(ref), client().guidanceRead(ref)]);
        const sorted = [...snapshots].sort((a, b) => b.name.localeCompare(a.name));
        set({ snapshots: sorted, current: state, selected: Math.min(get().selected, Math.max(0, sorted.length - 1)) });
      } catch (error) {
        set({ error: toSerializedError(error) });
      } finally {
        set({ loading: false });
      }
    },
    select(index) {
      set({ selected: index });
    },
    async openPreview(index) {
      const { ref, snapshots } = get();
      const info = snapshots[index];
      if (!ref || !info) return;
      set({ selected: index, previewError: null });
      try {
        const { name, state } = await client().readSnapshot({ ...ref, name: info.name });
        set({ preview: { name, state } });
      } catch (error) {
        set({ preview: null, previewError: toSerializedError(error) });
      }
    },
    askRollback() {
      if (get().preview) set({ confirming: true, result: null });
    },
    cancelRollback() {
      set({ confirming: false });
    },
    async rollback() {
      const { ref, preview, current } = get();
      if (!ref || !preview || !current) return;
      set({ rollingBack: true });
      try {
        const name = await author();
        const result = await client().guidanceRollback({ ...ref, snapshot: preview.name, baseStep: current.step, author: name });
        set({ result, confirming: false });
        await get().load(ref);
      } catch (error) {
        set({ previewError: toSerializedError(error), confirming: false });
      } finally {
        set({ rollingBack: false });
      }
    },
  }));
}

export type SnapshotsStore = ReturnType<typeof createSnapshotsStore>;
