import { useEffect } from 'react';
import { useStore } from 'zustand';
import type { GroupDetailOutput } from '../../../shared/api/contract';
import { navStore } from '../../app/navStore';
import { labelText, num, time } from '../../shared/format';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { StatusLine } from '../../shared/ui/StatusLine';
import { sortedExperienceKeys } from '../../shared/experienceKeys';
import { StageASummaryView } from './StageASummaryView';
import type { GroupStore } from './store';

export function GroupScreen({ store }: { store: GroupStore }) {
  const run = useStore(navStore, (s) => s.run);
  const groupId = useStore(navStore, (s) => s.route.params.group ?? null);
  const state = useStore(store, (s) => s.state);
  // The selected candidate is the route's (?candidate=<epoch>-<index>): a click sets it, a link opens it.
  const candidate = useStore(navStore, (s) => s.route.params.candidate ?? null);
  useEffect(() => {
    if (run && groupId) void store.getState().load({ ...run, groupId });
  }, [run, groupId, store]);
  if (!run || !groupId) return <section className="screen"><h1>Group</h1><p className="muted empty">Open a group from the trajectories table.</p></section>;
  const detail = state.status === 'ready' ? state.data : undefined;
  return (
    <section className="screen group-screen" aria-labelledby="group-title">
      <header className="screen-head">
        <button onClick={() => navStore.getState().back()} aria-label="Back">← Back</button>
        <h1 id="group-title">Group {groupId}</h1>
        {detail?.guidance && <span className="tag" data-testid="group-guidance-step">guidance step {detail.guidance.step}</span>}
        {detail?.needReview && <span className="tag warn">need_review</span>}
      </header>
      <StatusLine state={state} empty="" />
      {detail && <GroupDetail detail={detail} candidate={candidate} />}
    </section>
  );
}

const candidateKey = (c: GroupDetailOutput['candidates'][number]) => `${c.epoch}-${c.candidate_index}`;

function GroupDetail({ detail, candidate }: { detail: GroupDetailOutput; candidate: string | null }) {
  useEffect(() => {
    if (candidate) document.querySelector(`[data-candidate="${CSS.escape(candidate)}"]`)?.scrollIntoView({ block: 'center' });
  }, [candidate, detail]);
  const latest = detail.selections[detail.selections.length - 1];
  return (
    <div className="group-detail">
      <ErrorBox error={detail.ticketError} title="Stage-A tickets could not be read" />
      {detail.tickets.map((ticket) => (
        <article key={ticket.ticket_key} className="card">
          <h2>Ticket {ticket.ticket_key} <span className={`tag label-${ticket.label}`} data-testid="ticket-label">label: {ticket.label ? labelText(ticket.label, ticket.original_label) : 'none'}</span></h2>
          <p className="muted">{ticket.source.file}:{ticket.source.line}</p>
          {ticket.gt_fail_reason_texts.length > 0 && <p>Reviewer reason: {ticket.gt_fail_reason_texts.join('；')}</p>}
          <div className="summaries">
            {ticket.summaries.map((s) => <StageASummaryView key={s.image} image={s.image} raw={s.raw} parsed={s.parsed} />)}
          </div>
        </article>
      ))}
      {latest && (
        <article className="card" data-testid="selected-verdict">
          <h2>Selected verdict</h2>
          {detail.selections.map((sel) => (
            <div key={`${sel.epoch}-${sel.ticket_key}`} className="selection">
              <p>
                <strong>epoch {sel.epoch}</strong> · verdict <span className={`tag label-${sel.verdict}`}>{sel.verdict ?? 'malformed'}</span> · label <span data-testid="selection-label">{labelText(sel.label, sel.original_label)}</span> ·
                vote {sel.vote.pass}/{sel.vote.fail}/{sel.vote.malformed} (pass/fail/malformed) · rule {sel.selection_rule} · confidence {num(sel.confidence)} · guidance step {sel.guidance_step}
              </p>
              {sel.reason && <p>Reason: {sel.reason}</p>}
              {sel.summary && <p><strong>Summary:</strong> {sel.summary}</p>}
              {sel.critique && <p><strong>Critique:</strong> {sel.critique}</p>}
              {sel.eligible === false && <p className="warn-text">Ineligible: {sel.ineligible_reason}</p>}
              {sel.eligible === true && <p>Eligible for reflection</p>}
              {sel.warnings.length > 0 && <p className="warn-text">Warnings: {sel.warnings.join(', ')}</p>}
            </div>
          ))}
        </article>
      )}
      <article className="card">
        <h2>Candidates ({detail.candidates.length})</h2>
        {detail.candidates.length === 0 ? <p className="muted">No candidates recorded.</p> : (
          <table className="candidates">
            <thead><tr><th>Ep</th><th>#</th><th>Decode</th><th>Verdict</th><th>Conf</th><th>Signals</th><th>Response</th></tr></thead>
            <tbody>
              {detail.candidates.map((c) => (
                <tr key={`${c.epoch}-${c.candidate_index}-${c.ticket_key}`} className={[c.signals.label_match === false ? 'mismatch' : '', candidateKey(c) === candidate ? 'selected' : ''].join(' ').trim() || undefined}
                  data-candidate={candidateKey(c)} aria-selected={candidateKey(c) === candidate} onClick={() => navStore.getState().setParam('candidate', candidateKey(c))}>
                  <td>{c.epoch}</td>
                  <td>{c.candidate_index}</td>
                  <td>T={c.decode.temperature} p={c.decode.top_p} seed={c.decode.seed} max={c.decode.max_new_tokens} {c.decode.prompt_variant}</td>
                  <td>{c.verdict ?? <span className="warn-text">malformed{c.parse_error ? `: ${c.parse_error}` : ''}</span>}</td>
                  <td>{num(c.confidence)}</td>
                  <td>match {String(c.signals.label_match)} · sc {num(c.signals.self_consistency)} · agree {String(c.signals.candidate_agreement)} · trust {num(c.signals.label_trust)}</td>
                  <td><pre className="raw">{c.response_text}</pre></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </article>
      {detail.guidance && (
        <article className="card">
          <h2>Guidance in force (step {detail.guidance.step})</h2>
          {detail.guidance.state ? (
            <ol className="rules">
              {sortedExperienceKeys(detail.guidance.state.experiences).map((k) => <li key={k}><code>{k}</code> {detail.guidance!.state!.experiences[k]}</li>)}
            </ol>
          ) : <p className="muted">No snapshot of this step survives.</p>}
        </article>
      )}
      {detail.reviews.length > 0 && (
        <article className="card">
          <h2>QA reviews</h2>
          <ul>{detail.reviews.map((r, i) => <li key={i}>{time(r.created_at)} · {r.status} · {r.reviewer ?? 'anonymous'} · {r.note}</li>)}</ul>
        </article>
      )}
    </div>
  );
}
