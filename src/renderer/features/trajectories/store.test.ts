import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import type { QueryRowsInput } from '../../../shared/api/contract';
import { evictPages, pagesForRange } from './pageWindow';
import { PAGE_SIZE, createRowsStore } from './store';

function selection(i: number) {
  return {
    line: i + 1,
    record: {
      run_name: 'r', mission: 'm', epoch: i % 2, batch_index: 0, group_id: `QC-${i}`, ticket_key: `QC-${i}::pass`, label: 'pass', selected_candidate: 0,
      verdict: i % 3 === 0 ? 'fail' : 'pass', reason: null, confidence: 0.9, response_text: '', vote: { pass: 1, fail: 0, malformed: 0 }, selection_rule: 'majority',
      signals: { label_match: i % 3 !== 0, self_consistency: 1, candidate_agreement: true, confidence: 0.9, label_trust: 1 },
      guidance_step: 0, reflection_cycle: 0, reflection_id: null, summary: null, critique: null, eligible: null, ineligible_reason: null, warnings: [], created_at: '',
    },
  };
}

/** An in-memory queryRows over N rows that honours epoch and label_match, with calls recorded and answers held until released. */
function fakeClient(n: number) {
  const all = Array.from({ length: n }, (_, i) => selection(i));
  const calls: QueryRowsInput[] = [];
  const pending: Array<() => void> = [];
  const client = {
    queryRows(input: QueryRowsInput) {
      calls.push(input);
      const f = input.filters ?? {};
      const rows = all.filter((r) => (f.epoch === undefined || r.record.epoch === f.epoch) && (f.label_match === undefined || r.record.signals.label_match === f.label_match));
      const offset = input.offset ?? 0;
      const out = { kind: 'selections', total: rows.length, offset, indexed_lines: n, invalid: [], rows: rows.slice(offset, offset + (input.limit ?? 100)) };
      return new Promise((resolve) => pending.push(() => resolve(out)));
    },
  } as unknown as ApiClient;
  const flush = async () => {
    while (pending.length) pending.shift()!();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { client, calls, flush };
}

describe('pagesForRange / evictPages', () => {
  it('covers the visible range, clipped to the total', () => {
    expect(pagesForRange(0, 450, 200, null)).toEqual([0, 1, 2]);
    expect(pagesForRange(150, 450, 200, 300)).toEqual([0, 1]);
    expect(pagesForRange(0, 10, 200, 0)).toEqual([]);
  });
  it('evicts the pages farthest from the focus', () => {
    expect(evictPages([0, 1, 2, 3, 9], 3, 2)).toEqual([9, 0]);
    expect(evictPages([0, 1], 3, 0)).toEqual([]);
  });
});

describe('rows store', () => {
  it('loads the first page on open and more pages on demand', async () => {
    const { client, calls, flush } = fakeClient(1000);
    const store = createRowsStore(() => client);
    store.getState().setRef({ runId: 'r', mission: 'm' });
    await flush();
    expect(store.getState().total).toBe(1000);
    expect(store.getState().rowAt(5)?.record.group_id).toBe('QC-5');
    store.getState().ensureRange(590, 650);
    await flush();
    expect(calls.map((c) => c.offset).sort((a, b) => a! - b!)).toEqual([0, 400, 600]);
    expect(store.getState().rowAt(640)?.record.group_id).toBe('QC-640');
  });
  it('sends filters to the server and drops answers of a superseded query', async () => {
    const { client, calls, flush } = fakeClient(1000);
    const store = createRowsStore(() => client);
    store.getState().setRef({ runId: 'r', mission: 'm' });
    store.getState().setFilters({ epoch: 1 });
    store.getState().setFilters({ label_match: false });
    await flush();
    expect(calls.at(-1)?.filters).toEqual({ epoch: 1, label_match: false });
    const total = store.getState().total!;
    expect(total).toBe(Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 2 === 1 && i % 3 === 0).length);
    expect(store.getState().rowAt(0)?.record.group_id).toBe('QC-3');
    store.getState().setFilters({ text: '' });
    expect(calls.at(-1)?.filters).not.toHaveProperty('text');
  });
  it('toggles the sort direction on the same field', () => {
    const { client } = fakeClient(10);
    const store = createRowsStore(() => client);
    store.getState().setSort('confidence');
    expect(store.getState().sort).toEqual({ field: 'confidence', dir: 'asc' });
    store.getState().setSort('confidence');
    expect(store.getState().sort.dir).toBe('desc');
  });
  it('keeps errors verbatim', async () => {
    const client = { queryRows: () => Promise.reject({ code: 'IO_READ_FAILED', message: 'selections.jsonl: boom', location: { file: 'selections.jsonl', line: 3 } }) } as unknown as ApiClient;
    const store = createRowsStore(() => client);
    store.getState().setRef({ runId: 'r', mission: 'm' });
    await new Promise((r) => setTimeout(r, 0));
    expect(store.getState().error).toEqual({ code: 'IO_READ_FAILED', message: 'selections.jsonl: boom', location: { file: 'selections.jsonl', line: 3 } });
    expect(PAGE_SIZE).toBeGreaterThan(0);
  });
});

describe('rows store page scheduling', () => {
  it('keeps at most two requests in flight and never fetches pages scrolled past before they were sent', async () => {
    const { client, calls, flush } = fakeClient(100_000);
    const store = createRowsStore(() => client);
    store.getState().setRef({ runId: 'r', mission: 'm' });
    await flush();
    calls.length = 0;
    store.getState().ensureRange(10_000, 10_900);
    expect(calls).toHaveLength(2);
    store.getState().ensureRange(50_000, 50_300);
    await flush();
    await flush();
    const offsets = calls.map((c) => c.offset);
    expect(offsets.slice(2).every((o) => o! >= 49_800 && o! <= 50_400)).toBe(true);
    expect(store.getState().rowAt(50_100)?.record.group_id).toBe('QC-50100');
    expect(offsets.filter((o) => o! >= 10_000 && o! < 11_000).length).toBe(2);
  });
});

describe('rows store over a partial index', () => {
  it('shows the indexed share, then asks again until the answer covers the whole file', async () => {
    let partial = true;
    const calls: QueryRowsInput[] = [];
    const client = {
      async queryRows(input: QueryRowsInput) {
        calls.push(input);
        const out = { kind: 'selections', total: partial ? 40 : 100, offset: 0, indexed_lines: 100, invalid: [], rows: [selection(0)], ...(partial ? { partial: true, indexed_rows: 40, indexed_fraction: 0.4 } : {}) };
        return out;
      },
    } as unknown as ApiClient;
    const store = createRowsStore(() => client);
    store.getState().setRef({ runId: 'r', mission: 'm' });
    await new Promise((r) => setTimeout(r, 0));
    expect(store.getState().indexing).toBe(0.4);
    expect(store.getState().total).toBe(40);
    partial = false;
    await new Promise((r) => setTimeout(r, 700));
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(store.getState().indexing).toBeNull();
    expect(store.getState().total).toBe(100);
  });
});
