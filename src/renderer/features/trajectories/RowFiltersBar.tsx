import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import { WarningCodeSchema, IneligibleReasonSchema } from '../../../shared/schemas/records';
import { QaReviewStatusSchema, type RowFilters } from '../../../shared/api/contract';
import type { RowsStore } from './store';
import { useDebounced } from './useDebounced';

const triState = (value: boolean | null | undefined) => (value === undefined ? '' : value === null ? 'null' : String(value));
const parseTri = (value: string): boolean | null | undefined => (value === '' ? undefined : value === 'null' ? null : value === 'true');

export function RowFiltersBar({ store }: { store: RowsStore }) {
  const filters = useStore(store, (s) => s.filters);
  const kind = useStore(store, (s) => s.kind);
  const [text, setText] = useState(filters.text ?? '');
  const debounced = useDebounced(text, 250);
  useEffect(() => {
    if ((store.getState().filters.text ?? '') !== debounced) store.getState().setFilters({ text: debounced || undefined });
  }, [debounced, store]);
  useEffect(() => {
    if (!filters.text) setText((t) => (t && !store.getState().filters.text ? '' : t));
  }, [filters.text, store]);
  const set = (patch: Partial<RowFilters>) => store.getState().setFilters(patch);

  return (
    <form className="filters" role="search" onSubmit={(e) => e.preventDefault()} aria-label="Row filters">
      <label>Rows
        <select value={kind} onChange={(e) => store.getState().setKind(e.target.value as 'selections' | 'trajectories')} data-testid="filter-kind">
          <option value="selections">selections (per group)</option>
          <option value="trajectories">trajectories (per candidate)</option>
        </select>
      </label>
      <label>Epoch
        <input type="number" min={0} value={filters.epoch ?? ''} data-testid="filter-epoch" style={{ width: '4em' }}
          onChange={(e) => set({ epoch: e.target.value === '' ? undefined : Number(e.target.value) })} />
      </label>
      <label>Label
        <select value={filters.label ?? ''} onChange={(e) => set({ label: (e.target.value || undefined) as RowFilters['label'] })} data-testid="filter-label">
          <option value="">any</option><option value="pass">pass</option><option value="fail">fail</option><option value="none">none</option>
        </select>
      </label>
      <label>Verdict
        <select value={filters.verdict ?? ''} onChange={(e) => set({ verdict: (e.target.value || undefined) as RowFilters['verdict'] })} data-testid="filter-verdict">
          <option value="">any</option><option value="pass">pass</option><option value="fail">fail</option><option value="none">malformed</option>
        </select>
      </label>
      <label>label_match
        <select value={triState(filters.label_match)} onChange={(e) => set({ label_match: parseTri(e.target.value) })} data-testid="filter-label-match">
          <option value="">any</option><option value="true">match</option><option value="false">mismatch</option><option value="null">n/a</option>
        </select>
      </label>
      {kind === 'selections' && (
        <>
          <label>Eligible
            <select value={triState(filters.eligible)} onChange={(e) => set({ eligible: parseTri(e.target.value) })} data-testid="filter-eligible">
              <option value="">any</option><option value="true">eligible</option><option value="false">ineligible</option><option value="null">not screened</option>
            </select>
          </label>
          <label>Ineligible reason
            <select value={filters.ineligible_reason ?? ''} onChange={(e) => set({ ineligible_reason: e.target.value || undefined })} data-testid="filter-ineligible">
              <option value="">any</option>
              {IneligibleReasonSchema.options.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
          </label>
        </>
      )}
      <label>Warning
        <select value={filters.warning ?? ''} onChange={(e) => set({ warning: (e.target.value || undefined) as RowFilters['warning'] })} data-testid="filter-warning">
          <option value="">any</option>
          {WarningCodeSchema.options.map((w) => <option key={w} value={w}>{w}</option>)}
        </select>
      </label>
      <label>Review
        <select value={filters.review ?? ''} onChange={(e) => set({ review: (e.target.value || undefined) as RowFilters['review'] })} data-testid="filter-review">
          <option value="">any</option><option value="reviewed">reviewed</option><option value="unreviewed">unreviewed</option>
          {QaReviewStatusSchema.options.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <label className="grow search-field">Search
        <input type="search" value={text} placeholder="group id, response, reason, critique, Stage-A summary…" onChange={(e) => setText(e.target.value)} data-testid="filter-text" id="rows-search" aria-describedby="rows-search-covers" />
        <span id="rows-search-covers" className="search-covers" data-testid="search-covers">Matches group id, ticket, response, reason, summary, critique, ineligible reason, and the ticket&apos;s Stage-A image summaries.</span>
      </label>
      <button type="button" onClick={() => { setText(''); store.getState().clearFilters(); }}>Clear</button>
    </form>
  );
}
