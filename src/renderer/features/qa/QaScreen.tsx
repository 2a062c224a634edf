import { useEffect } from 'react';
import { useStore } from 'zustand';
import { QaReasonSchema, type QaItem, type QaReason } from '../../../shared/api/contract';
import { navStore } from '../../app/navStore';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { KeyList } from '../../shared/ui/KeyList';
import type { QaStatus, QaStore } from './store';

const STATUSES: QaStatus[] = ['ok', 'label_wrong', 'guidance_gap', 'model_error', 'other'];

export function QaScreen({ store }: { store: QaStore }) {
  const run = useStore(navStore, (s) => s.run);
  const s = useStore(store);
  useEffect(() => {
    if (run) void store.getState().load(run);
  }, [run, store]);
  if (!run) return <section className="screen"><h1>QA queue</h1><p className="muted empty">Open a run first.</p></section>;
  const current = s.items[s.selected];
  return (
    <section className="screen" aria-labelledby="qa-title">
      <header className="screen-head">
        <h1 id="qa-title">QA queue</h1>
        <label>Reason
          <select value={s.reason ?? ''} onChange={(e) => store.getState().setReason((e.target.value || null) as QaReason | null)} data-testid="qa-reason">
            <option value="">all</option>
            {QaReasonSchema.options.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label><input type="checkbox" checked={s.includeReviewed} onChange={(e) => store.getState().setIncludeReviewed(e.target.checked)} /> include reviewed</label>
        <span className="muted">{s.total} items · press r to mark the selected one reviewed (ok)</span>
      </header>
      <ErrorBox error={s.error} />
      {s.loading && s.items.length === 0 && <p className="muted" role="status">Loading…</p>}
      {!s.loading && !s.error && s.items.length === 0 && <p className="muted empty">Nothing to review.</p>}
      {s.items.length > 0 && (
        <KeyList<QaItem>
          testId="qa-list" label="QA items" items={s.items} selected={s.selected}
          onSelect={(i) => store.getState().select(i)} onOpen={(item) => navStore.getState().openGroup(item.group_id)}
          onKey={(key, item) => {
            if (key !== 'r') return false;
            void store.getState().markReviewed(item, 'ok');
            return true;
          }}
          itemKey={(x) => `${x.ticket_key}/${x.epoch}`}
          renderItem={(x) => (
            <div className="qa-item">
              <span><strong>{x.group_id}</strong> <span className="muted">epoch {x.epoch ?? '—'} · label {x.label ?? '—'} · verdict {x.verdict ?? '—'}</span></span>
              <span>{x.reasons.map((r) => <span key={r} className="tag">{r}</span>)}{x.ineligible_reason && <span className="tag warn">{x.ineligible_reason}</span>}</span>
              <span className={x.review ? 'reviewed' : 'muted'} data-testid="qa-review">{x.review ? `reviewed: ${x.review.status}` : 'not reviewed'}</span>
              {x.critique && <span className="muted small">{x.critique}</span>}
            </div>
          )}
        />
      )}
      {current && (
        <div className="actions">
          {STATUSES.map((status) => (
            <button key={status} onClick={() => void store.getState().markReviewed(current, status)}>Mark {status}</button>
          ))}
        </div>
      )}
    </section>
  );
}
