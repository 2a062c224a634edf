import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { CompareOutput, RunRef, RunStepInfo, RunSummary } from '../../../shared/api/contract';
import { getApiClient } from '../../app/apiClient';
import { createResourceStore } from '../../shared/resourceStore';

/** One side as the screen holds it: a mission run, or one guidance step of it. */
export type ComparePick = RunRef & { step: number | null };

export type CompareMode = 'runs' | 'steps';

export type ComparePicksState = {
  mode: CompareMode;
  a: ComparePick | null;
  b: ComparePick | null;
  /** steps mode: the run whose steps are listed. */
  stepsRun: RunRef | null;
  setMode(mode: CompareMode): void;
  /** Sets one side explicitly (the runs screen's `a` / `b`). */
  mark(side: 'a' | 'b', pick: ComparePick): void;
  /** Enter on a list: fills A, then B; a third pick starts over at A. */
  pickNext(pick: ComparePick): void;
  swap(): void;
  clear(): void;
  openSteps(run: RunRef): void;
};

export const samePick = (x: ComparePick | null, y: ComparePick | null) =>
  x !== null && y !== null && x.runId === y.runId && x.mission === y.mission && x.step === y.step;

export const pickName = (pick: ComparePick) => `${pick.runId} / ${pick.mission}${pick.step === null ? '' : ` @ step ${pick.step}`}`;

/** Which two sides to compare, and the comparison of the last two picked. */
export function createCompareStore(client: () => ApiClient) {
  const result = createResourceStore<{ a: ComparePick; b: ComparePick }, CompareOutput>((sides) => client().compare({ a: sides.a, b: sides.b }));
  const steps = createResourceStore<RunRef, RunStepInfo[]>(async (ref) => (await client().runSteps(ref)).steps);
  const runs = createResourceStore<void, RunSummary[]>(async () => (await client().listRuns({})).runs);
  const compareIfComplete = (state: Pick<ComparePicksState, 'a' | 'b'>) => {
    if (state.a && state.b) void result.getState().load({ a: state.a, b: state.b });
  };
  const picks = createStore<ComparePicksState>()((set, get) => ({
    mode: 'runs',
    a: null,
    b: null,
    stepsRun: null,
    setMode(mode) {
      if (mode !== get().mode) set({ mode, a: null, b: null, stepsRun: null });
    },
    mark(side, pick) {
      set({ [side]: pick } as Pick<ComparePicksState, 'a' | 'b'>);
      compareIfComplete(get());
    },
    pickNext(pick) {
      const { a, b } = get();
      if (a === null || b !== null) set({ a: pick, b: null });
      else set({ b: pick });
      compareIfComplete(get());
    },
    swap() {
      const { a, b } = get();
      set({ a: b, b: a });
      compareIfComplete(get());
    },
    clear() {
      set({ a: null, b: null });
    },
    openSteps(run) {
      set({ stepsRun: run });
      void steps.getState().load(run);
    },
  }));
  return { picks, result, steps, runs };
}

export type CompareStores = ReturnType<typeof createCompareStore>;

/**
 * The one compare store of the window: the runs screen marks A and B in it (a / b / c), the
 * compare screen shows what was marked. Created on first use.
 */
let shared: CompareStores | null = null;
export function compareStores(): CompareStores {
  shared ??= createCompareStore(getApiClient);
  return shared;
}
