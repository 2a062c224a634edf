import { useEffect, useRef, type KeyboardEvent } from 'react';
import { useStore } from 'zustand';
import { QaReasonSchema, type QaItem, type QaReason } from '../../../shared/api/contract';
import { navStore } from '../../app/navStore';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { KeyList } from '../../shared/ui/KeyList';
import { useReviewer } from '../../shared/reviewer/useReviewer';
import type { ReviewerStore } from '../../shared/reviewer/reviewerStore';
import { QA_STATUS_KEYS, statusForKey, type QaDownload, type QaStore } from './store';

/** Saves text as a file through a Blob link: works the same in Electron and the browser. */
function download(file: QaDownload) {
  const url = URL.createObjectURL(new Blob([file.text], { type: 'application/x-ndjson' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoked later: Chromium reads the Blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Who the reviews are signed by: the same name the guidance editor saves under. */
function ReviewerName({ store }: { store: ReviewerStore }) {
  const name = useReviewer(store, (s) => s.name);
  return (
    <span className="small qa-reviewer" data-testid="qa-reviewer">Signed by <strong>{name ?? 'no name (asked on the first review)'}</strong>{' '}
      <button className="link" onClick={() => store.getState().change()}>{name ? 'change' : 'set'}</button></span>
  );
}

const focusList = () => document.querySelector<HTMLElement>('[data-testid="qa-list"]')?.focus();

export function QaScreen({ store, reviewer }: { store: QaStore; reviewer?: ReviewerStore }) {
  const run = useStore(navStore, (s) => s.run);
  const s = useStore(store);
  const noteRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (run) void store.getState().load(run);
  }, [run, store]);
  if (!run) return <section className="screen"><h1>QA queue</h1><p className="muted empty">Open a run first.</p></section>;
  const current = s.items[s.selected];
  const { reviewed, total } = s.progress;

  function onNoteKey(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      focusList();
    }
  }

  return (
    <section className="screen qa-screen" aria-labelledby="qa-title">
      <header className="screen-head">
        <h1 id="qa-title">QA queue</h1>
        <span className="qa-progress" data-testid="qa-progress" role="status" aria-label="Review progress">
          <progress max={Math.max(1, total)} value={reviewed} /> {reviewed} / {total} reviewed
        </span>
        <label>Queue
          <select value={s.scope} onChange={(e) => store.getState().setScope(e.target.value as 'needs_person' | 'all')} data-testid="qa-scope">
            <option value="needs_person">needs a person</option>
            <option value="all" title="critiques and warnings too">all items</option>
          </select>
        </label>
        <label>Reason
          <select value={s.reason ?? ''} onChange={(e) => store.getState().setReason((e.target.value || null) as QaReason | null)} data-testid="qa-reason">
            <option value="">any</option>
            {QaReasonSchema.options.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label><input type="checkbox" checked={s.includeReviewed} onChange={(e) => store.getState().setIncludeReviewed(e.target.checked)} /> include reviewed</label>
        <span className="qa-downloads">
          <button onClick={async () => { const f = await store.getState().exportReviews(); if (f) download(f); }} data-testid="qa-export">Export reviews</button>
          <button onClick={async () => { const f = await store.getState().labelCorrections(); if (f) download(f); }} data-testid="qa-corrections"
            title="label_wrong reviews as a label corrections file (JSONL) a run config can name">Corrections file</button>
        </span>
      </header>
      <ErrorBox error={s.error} />
      <p className="muted small qa-keys">
        {QA_STATUS_KEYS.map((k) => <span key={k.key}><kbd>{k.key}</kbd> {k.status} </span>)}
        · <kbd>n</kbd> note · <kbd>u</kbd> undo · <kbd>s</kbd> scope · {s.items.length} shown of {s.total}
      </p>
      {s.notice && <p className="muted small" data-testid="qa-notice" role="status">{s.notice}</p>}
      {s.loading && s.items.length === 0 && <p className="muted" role="status">Loading…</p>}
      {!s.loading && !s.error && s.items.length === 0 && <p className="muted empty">Nothing to review.</p>}
      <div className="qa-body" style={{ display: 'grid', gridTemplateColumns: 'minmax(0, 1fr) minmax(260px, 340px)', gap: 12, alignItems: 'start' }}>
        {s.items.length > 0 && (
          <KeyList<QaItem>
            testId="qa-list" label="QA items" items={s.items} selected={s.selected}
            onSelect={(i) => store.getState().select(i)} onOpen={(item) => navStore.getState().openGroup(item.group_id)}
            onKey={(key, item) => {
              const status = statusForKey(key);
              if (status) {
                void store.getState().markReviewed(item, status);
                return true;
              }
              if (key === 'n') {
                noteRef.current?.focus();
                return true;
              }
              if (key === 'u') {
                void store.getState().undo();
                return true;
              }
              if (key === 's') {
                store.getState().setScope(store.getState().scope === 'all' ? 'needs_person' : 'all');
                return true;
              }
              return false;
            }}
            itemKey={(x) => `${x.ticket_key}/${x.epoch}`}
            renderItem={(x) => (
              <div className="qa-item">
                <span><strong className="group-id" title={x.group_id} style={{ overflowWrap: 'anywhere' }}>{x.group_id}</strong> <span className="muted">epoch {x.epoch ?? '—'} · label {x.label ?? '—'} · verdict {x.verdict ?? '—'}</span></span>
                <span>{x.reasons.map((r) => <span key={r} className="tag">{r}</span>)}{x.ineligible_reason && <span className="tag warn">{x.ineligible_reason}</span>}</span>
                <span className={x.review ? 'reviewed' : 'muted'} data-testid="qa-review">{x.review ? `reviewed: ${x.review.status}` : 'not reviewed'}</span>
                {x.review?.note && <span className="small" data-testid="qa-review-note">note: {x.review.note}{x.review.reviewer ? ` — ${x.review.reviewer}` : ''}</span>}
                {x.critique && <span className="muted small">{x.critique}</span>}
              </div>
            )}
          />
        )}
        {current && (
          <div className="qa-form" style={{ display: 'flex', flexDirection: 'column', gap: 6, position: 'sticky', top: 0 }}>
            <label htmlFor="qa-note" style={{ overflowWrap: 'anywhere' }}>Note for {current.group_id} <span className="muted small">(<kbd>n</kbd> to type, <kbd>Esc</kbd> back to the list)</span></label>
            <textarea id="qa-note" style={{ width: '100%', boxSizing: 'border-box' }} ref={noteRef} rows={3} maxLength={4000} value={s.note} data-testid="qa-note"
              onChange={(e) => store.getState().setNote(e.target.value)} onKeyDown={onNoteKey} placeholder="why — sent with the next review" />
            {reviewer && <ReviewerName store={reviewer} />}
            <div className="actions">
              {QA_STATUS_KEYS.map(({ status, key, what }) => (
                <button key={status} title={what} onClick={() => { void store.getState().markReviewed(current, status); focusList(); }}>
                  <kbd>{key}</kbd> {status}
                </button>
              ))}
              <button onClick={() => { void store.getState().undo(); focusList(); }} disabled={s.undoStack.length === 0} data-testid="qa-undo"><kbd>u</kbd> Undo</button>
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
