import { useEffect, useRef } from 'react';
import { useStore } from 'zustand';
import type { ReviewQueueItem } from '../../../shared/api/contract';
import { navStore } from '../../app/navStore';
import { getApiClient } from '../../app/apiClient';
import { groupIdOfTicketKey, time } from '../../shared/format';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { KeyList } from '../../shared/ui/KeyList';
import { missingRules, proposalRows, type ProposalRow } from './proposalRows';
import type { ReviewQueueStore } from './store';

const POLL_MS = 4000;

const show = (text: string | null, absent = '(absent)') => (text === null ? <em className="muted">{absent}</em> : text);

export function ReviewScreen({ store }: { store: ReviewQueueStore }) {
  const run = useStore(navStore, (s) => s.run);
  const s = useStore(store);
  useEffect(() => {
    if (!run) return;
    void store.getState().load(run);
    const timer = setInterval(() => void store.getState().refresh(), POLL_MS);
    const off = getApiClient().onEvent((event) => {
      if (event.type === 'run_event' && (event.event.type === 'guidance' || event.event.type === 'reflection')) void store.getState().refresh();
    });
    return () => {
      clearInterval(timer);
      off();
    };
  }, [run, store]);
  if (!run) return <section className="screen"><h1>Review queue</h1><p className="muted empty">Open a run first.</p></section>;
  const selectedIndex = Math.max(0, s.items.findIndex((i) => i.item_id === s.selectedId));
  const current = s.items[selectedIndex];
  return (
    <section className="screen split-screen" aria-labelledby="review-title">
      <header className="screen-head">
        <h1 id="review-title">Review queue — protected rules</h1>
        <span className="tag" data-testid="review-pending">{s.pending} pending</span>
        <label>Show
          <select value={s.filter} onChange={(e) => store.getState().setFilter(e.target.value as 'pending' | 'all')} data-testid="review-filter">
            <option value="pending">pending</option>
            <option value="all">all (with decisions)</option>
          </select>
        </label>
        <span className="muted">j/k move · <kbd>a</kbd> accept · <kbd>d</kbd> dismiss (each asks for a note)</span>
      </header>
      <p className="muted small">Reflection may propose changes to G0 and to rules a person wrote last, but never applies them itself. Accepting writes the change as a new guidance step, recorded as approved by you.</p>
      {s.done && <div className="banner ok" role="status" data-testid="review-done">{s.done}</div>}
      {!s.deciding && <ErrorBox error={s.error} />}
      {s.loading && s.items.length === 0 && <p className="muted" role="status">Loading…</p>}
      {!s.loading && s.items.length === 0 && !s.error && <p className="muted empty" data-testid="review-empty">{s.filter === 'pending' ? 'Nothing waits for review.' : 'Reflection has queued nothing in this run.'}</p>}
      {s.items.length > 0 && (
        <div className="split">
          <div className="split-list">
            <KeyList<ReviewQueueItem>
              testId="review-list" label="Queued proposals" items={s.items} selected={selectedIndex}
              onSelect={(i) => store.getState().select(s.items[i].item_id)}
              onOpen={(_, i) => { store.getState().select(s.items[i].item_id); document.getElementById('review-detail')?.focus(); }}
              onKey={(key, item) => {
                if (key !== 'a' && key !== 'd') return false;
                store.getState().begin(key === 'a' ? 'accept' : 'dismiss', item.item_id);
                return true;
              }}
              itemKey={(i) => i.item_id}
              renderItem={(i) => (
                <div className="review-item">
                  <span><code>{i.operation.op} {i.operation.key}</code>{i.operation.merge_from?.length ? <span className="muted"> ← {i.operation.merge_from.join(', ')}</span> : null}</span>
                  <StatusTag item={i} />
                  <span className="muted small">{i.reflection_id} · e{i.epoch} b{i.batch_index} · step {i.guidance_step}</span>
                </div>
              )}
            />
          </div>
          {current && <ReviewDetail item={current} store={store} />}
        </div>
      )}
      {s.deciding && <DecisionDialog store={store} />}
    </section>
  );
}

function StatusTag({ item }: { item: ReviewQueueItem }) {
  if (item.status === 'pending') return <span className="tag warn">pending</span>;
  return <span className={`tag ${item.status === 'accepted' ? 'ok' : ''}`}>{item.status}{item.decision?.by ? ` by ${item.decision.by}` : ''}</span>;
}

const EFFECT: Record<ProposalRow['effect'], string> = {
  modify: 'modify',
  remove: 'remove',
  merge_into: 'merge target',
  merge_from: 'folded into the merge',
  add: 'add',
};

function ReviewDetail({ item, store }: { item: ReviewQueueItem; store: ReviewQueueStore }) {
  const rows = proposalRows(item);
  const missing = missingRules(item);
  return (
    <div className="split-detail" id="review-detail" tabIndex={-1} data-testid="review-detail">
      <h2><code>{item.operation.op} {item.operation.key}</code> <StatusTag item={item} /></h2>
      <p className="muted">Proposed by reflection <strong>{item.reflection_id}</strong> · epoch {item.epoch} · batch {item.batch_index} · on guidance step {item.guidance_step} · {time(item.created_at)}</p>
      {item.operation.rationale && <p><strong>Why:</strong> {item.operation.rationale}</p>}
      <table className="review-table" data-testid="review-rows">
        <colgroup><col className="c-rule" /><col /><col /><col className="c-why" /></colgroup>
        <thead><tr><th>Rule</th><th>What it says now</th><th>Proposed</th><th>Protected because</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.keyThen}-${r.effect}`} data-testid={`review-row-${r.keyThen}`}>
              <td>
                <code>{r.keyNow ?? r.keyThen}</code>
                {r.keyNow && r.keyNow !== r.keyThen && <div className="muted small">was {r.keyThen} at step {item.guidance_step}</div>}
                <div className="muted small">{EFFECT[r.effect]}</div>
              </td>
              <td className="now">
                {r.keyNow === null && r.effect !== 'add' ? <em className="warn-text">no longer in the guidance</em> : show(r.textNow)}
                {r.textThen !== null && r.textNow !== null && r.textThen !== r.textNow && <div className="muted small">changed since the proposal (it then said: {r.textThen})</div>}
              </td>
              <td className={`proposed effect-${r.effect}`}>{r.effect === 'merge_from' ? <em className="muted">folded into {item.operation.key}</em> : show(r.proposed, '(removed)')}</td>
              <td className="small">{r.reason ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {missing.length > 0 && item.status === 'pending' && <p className="warn-text">Rule {missing.join(', ')} no longer exists: accepting will fail; dismiss it instead.</p>}
      {item.operation.evidence.length > 0 && (
        <p className="evidence">Evidence: {item.operation.evidence.map((key) => (
          <button key={key} className="link" onClick={() => navStore.getState().openGroup(groupIdOfTicketKey(key))}>{key}</button>
        ))}</p>
      )}
      {item.decision && (
        <p data-testid="review-decision">
          <strong>{item.decision.decision}</strong> by {item.decision.by ?? 'an unnamed reviewer'} · {time(item.decision.created_at)}
          {item.decision.guidance_step_after !== null && <> · wrote step {item.decision.guidance_step_after}</>}
          {item.decision.note && <> · “{item.decision.note}”</>}
        </p>
      )}
      {item.status === 'pending' && (
        <div className="actions">
          <button className="primary" onClick={() => store.getState().begin('accept', item.item_id)} data-testid="review-accept"><kbd>a</kbd> Accept…</button>
          <button onClick={() => store.getState().begin('dismiss', item.item_id)} data-testid="review-dismiss"><kbd>d</kbd> Dismiss…</button>
        </div>
      )}
    </div>
  );
}

/** The note for a decision: Enter confirms (Shift+Enter adds a line), Esc cancels, Tab stays inside. */
function DecisionDialog({ store }: { store: ReviewQueueStore }) {
  const deciding = useStore(store, (s) => s.deciding)!;
  const note = useStore(store, (s) => s.note);
  const busy = useStore(store, (s) => s.busy);
  const error = useStore(store, (s) => s.error);
  const item = useStore(store, (s) => s.items.find((i) => i.item_id === s.deciding?.itemId));
  const boxRef = useRef<HTMLDivElement>(null);
  const noteRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    noteRef.current?.focus();
    return () => previous?.focus?.();
  }, []);
  const accept = deciding.kind === 'accept';
  const title = accept ? 'Accept this proposal?' : 'Dismiss this proposal?';
  return (
    <div className="modal-backdrop">
      <div ref={boxRef} className="modal" role="dialog" aria-modal="true" aria-labelledby="decision-title" data-testid="decision-dialog"
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.stopPropagation();
            store.getState().cancel();
          }
          if (event.key === 'Tab') {
            const focusable = [...(boxRef.current?.querySelectorAll<HTMLElement>('textarea, button') ?? [])];
            const i = focusable.indexOf(document.activeElement as HTMLElement);
            focusable[(i + (event.shiftKey ? -1 : 1) + focusable.length) % focusable.length]?.focus();
            event.preventDefault();
          }
        }}>
        <h2 id="decision-title">{title}</h2>
        {item && <p><code>{item.operation.op} {item.operation.key}</code> from {item.reflection_id}. {accept ? 'This writes a new guidance step, recorded as approved by you.' : 'The rule stays as it is; the proposal is closed.'}</p>}
        <label className="field">Note (optional)
          <textarea ref={noteRef} value={note} rows={3} onChange={(e) => store.getState().setNote(e.target.value)} data-testid="decision-note"
            onKeyDown={(event) => {
              if (event.key === 'Enter' && !event.shiftKey) {
                event.preventDefault();
                void store.getState().confirm();
              }
            }} />
        </label>
        <p className="muted small">Enter confirms · Shift+Enter new line · Esc cancels</p>
        <ErrorBox error={error} />
        <div className="modal-actions">
          <button onClick={() => store.getState().cancel()} disabled={busy}>Cancel</button>
          <button className="primary" onClick={() => void store.getState().confirm()} disabled={busy} data-testid="decision-confirm">
            {busy ? 'Writing…' : accept ? 'Accept' : 'Dismiss'}
          </button>
        </div>
      </div>
    </div>
  );
}
