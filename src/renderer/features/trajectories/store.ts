import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { QueryRowsOutput, RowFilters, RowKind, RunRef, SortField } from '../../../shared/api/contract';
import type { SerializedError } from '../../../shared/errors';
import { toSerializedError } from '../../shared/asyncState';
import { evictPages, pagesForRange } from './pageWindow';

export type RowItem = QueryRowsOutput['rows'][number];

export const PAGE_SIZE = 200;
const MAX_CACHED_PAGES = 40;
/** Page requests in flight at once; the rest wait, and are dropped if scrolled past before they are sent. */
const MAX_IN_FLIGHT = 2;

export type RowsState = {
  ref: RunRef | null;
  kind: RowKind;
  filters: RowFilters;
  sort: { field: SortField; dir: 'asc' | 'desc' };
  /** null until the first page of the current query answers. */
  total: number | null;
  /**
   * While the server is still indexing a big file it answers over the indexed prefix;
   * this is the indexed share (0..1) then, and null once answers cover the whole file.
   */
  indexing: number | null;
  invalid: QueryRowsOutput['invalid'];
  pages: Record<number, RowItem[]>;
  loading: Record<number, true>;
  /** Bumped on every query change; answers of an older generation are dropped. */
  generation: number;
  error: SerializedError | null;
  selected: number;
  setRef(ref: RunRef | null): void;
  setKind(kind: RowKind): void;
  setFilters(patch: Partial<RowFilters>): void;
  clearFilters(): void;
  setSort(field: SortField): void;
  select(index: number): void;
  ensureRange(start: number, end: number): void;
  rowAt(index: number): RowItem | undefined;
  reload(): void;
};

function cleanFilters(filters: RowFilters): RowFilters {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filters)) if (value !== undefined && value !== '') out[key] = value;
  return out as RowFilters;
}

/** How soon a provisional (partial-index) answer is asked again. */
export const PARTIAL_REFRESH_MS = 600;

/** The table's data: fetched page by page through queryRows, filters and sort on the server. */
export function createRowsStore(client: () => ApiClient) {
  return createStore<RowsState>()((set, get) => {
    /** The pages under the viewport as last reported; only these are ever requested. */
    let wanted: number[] = [];

    function pump() {
      const { ref, pages, loading } = get();
      if (!ref) return;
      let inFlight = Object.keys(loading).length;
      for (const page of wanted) {
        if (inFlight >= MAX_IN_FLIGHT) break;
        if (pages[page] || loading[page]) continue;
        inFlight += 1;
        void loadPage(page);
      }
    }

    function reset(patch: Partial<RowsState>) {
      wanted = [];
      set({ ...patch, total: null, indexing: null, pages: {}, loading: {}, invalid: [], error: null, selected: -1, generation: get().generation + 1 });
      get().ensureRange(0, PAGE_SIZE - 1);
    }

    let refreshTimer: ReturnType<typeof setTimeout> | null = null;
    /** Answers over a partial index are provisional: drop them and ask again shortly. */
    function schedulePartialRefresh(generation: number) {
      if (refreshTimer) return;
      refreshTimer = setTimeout(() => {
        refreshTimer = null;
        if (get().generation !== generation) return;
        set({ pages: {} });
        pump();
      }, PARTIAL_REFRESH_MS);
    }

    async function loadPage(page: number) {
      const { ref, kind, filters, sort, generation } = get();
      if (!ref) return;
      set({ loading: { ...get().loading, [page]: true } });
      try {
        const out = await client().queryRows({ ...ref, kind, offset: page * PAGE_SIZE, limit: PAGE_SIZE, sort, filters: cleanFilters(filters) });
        if (get().generation !== generation) return;
        const { [page]: _done, ...loading } = get().loading;
        const pages = { ...get().pages, [page]: out.rows as RowItem[] };
        for (const drop of evictPages(Object.keys(pages).map(Number), MAX_CACHED_PAGES, page)) delete pages[drop];
        set({ pages, loading, total: out.total, invalid: out.invalid, error: null, indexing: out.partial ? (out.indexed_fraction ?? 0) : null });
        if (out.partial) schedulePartialRefresh(generation);
        pump();
      } catch (error) {
        if (get().generation !== generation) return;
        const { [page]: _done, ...loading } = get().loading;
        set({ loading, error: toSerializedError(error) });
      }
    }

    return {
      ref: null,
      kind: 'selections',
      filters: {},
      sort: { field: 'row', dir: 'asc' },
      total: null,
      indexing: null,
      invalid: [],
      pages: {},
      loading: {},
      generation: 0,
      error: null,
      selected: -1,
      setRef(ref) {
        const current = get().ref;
        if (current && ref && current.runId === ref.runId && current.mission === ref.mission) return;
        reset({ ref, filters: {} });
      },
      setKind(kind) {
        if (kind !== get().kind) reset({ kind });
      },
      setFilters(patch) {
        reset({ filters: cleanFilters({ ...get().filters, ...patch }) });
      },
      clearFilters() {
        reset({ filters: {} });
      },
      setSort(field) {
        const { sort } = get();
        reset({ sort: { field, dir: sort.field === field && sort.dir === 'asc' ? 'desc' : 'asc' } });
      },
      select(index) {
        set({ selected: index });
      },
      ensureRange(start, end) {
        const { ref, total } = get();
        if (!ref) return;
        // Nearest to the middle of the range first: that is what the user is looking at.
        const middle = (start + end) / 2 / PAGE_SIZE;
        wanted = pagesForRange(start, end, PAGE_SIZE, total).sort((a, b) => Math.abs(a + 0.5 - middle) - Math.abs(b + 0.5 - middle));
        pump();
      },
      rowAt(index) {
        return get().pages[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE];
      },
      reload() {
        reset({});
      },
    };
  });
}

export type RowsStore = ReturnType<typeof createRowsStore>;
