import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import type { GroupDetailOutput } from '../../../shared/api/contract';
import { navStore } from '../../app/navStore';
import { labelText, num, time } from '../../shared/format';
import { isTypingTarget } from '../../shared/keyboard/listNavigation';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { StatusLine } from '../../shared/ui/StatusLine';
import { sortedExperienceKeys } from '../../shared/experienceKeys';
import { StageASummaryView } from './StageASummaryView';
import { copyText } from './copyText';
import type { GroupStore } from './store';
import { RUN_FILES } from '../../../shared/runFiles';

/** The group screen's own keys (listed in the `?` overlay). */
export const GROUP_KEYS: Array<[string, string]> = [
  ['[ / ]', 'group: previous / next group, in the order of the table it was opened from (else the run order)'],
  ['j / k', 'group: next / previous candidate (its prompt and decode parameters)'],
  ['c', 'group, trajectories table: copy the group id (of the selected row)'],
  ['y', 'group: copy the selected candidate\'s prompt'],
];

const PROMPT_WARNINGS: Record<string, string> = {
  stage_a_changed: `The Stage-A file changed since the run (its sha256 differs from ${RUN_FILES.manifest}): this prompt is rebuilt from the file as it is now and may differ from the one sampled.`,
  guidance_from_snapshot: `${RUN_FILES.guidanceHistory} does not hold this guidance step; the experiences come from a snapshot of that step.`,
  format_not_recorded: `${RUN_FILES.manifest} records no sampler settings; the verdict format and reason bound are the defaults (three_line, 80).`,
};

function promptText(prompt: { system: string; user: string }): string {
  return `[system]\n${prompt.system}\n\n[user]\n${prompt.user}`;
}

export function GroupScreen({ store }: { store: GroupStore }) {
  const run = useStore(navStore, (s) => s.run);
  const groupId = useStore(navStore, (s) => s.route.params.group ?? null);
  const state = useStore(store, (s) => s.state);
  const candidate = useStore(store, (s) => s.candidate);
  // The route names the selected candidate (?candidate=<epoch>-<index>): a link opens it, a selection rewrites it.
  const routeCandidate = useStore(navStore, (s) => s.route.params.candidate ?? null);
  const [copied, setCopied] = useState<string | null>(null);
  useEffect(() => {
    if (run && groupId) void store.getState().load({ ...run, groupId });
  }, [run, groupId, store]);

  const detail = state.status === 'ready' || state.status === 'loading' ? state.data : undefined;
  const shownId = detail?.groupId ?? groupId;

  useEffect(() => {
    if (state.status !== 'ready' || !routeCandidate) return;
    const index = state.data.candidates.findIndex((c) => candidateKey(c) === routeCandidate);
    if (index >= 0 && index !== store.getState().candidate) store.getState().selectCandidate(index);
    if (index >= 0) document.querySelector(`[data-candidate="${CSS.escape(routeCandidate)}"]`)?.scrollIntoView({ block: 'center' });
  }, [state, routeCandidate, store]);

  async function step(delta: 1 | -1) {
    const target = await store.getState().step(delta);
    // Replaces the route's group: previous/next is one place in the app, so Back still leaves the group screen.
    const nav = navStore.getState();
    if (target && nav.run) nav.navigate({ screen: 'group', run: nav.run, params: { group: target } }, 'replace');
  }
  async function copy(what: string, text: string) {
    setCopied((await copyText(text)) ? `Copied ${what}` : `Could not copy ${what}: the clipboard is not available`);
  }

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (isTypingTarget(event.target as HTMLElement) || navStore.getState().helpOpen || document.querySelector('[role="dialog"]')) return;
      const current = store.getState();
      const data = current.state.status === 'ready' ? current.state.data : null;
      switch (event.key) {
        case ']':
          event.preventDefault();
          void step(1);
          return;
        case '[':
          event.preventDefault();
          void step(-1);
          return;
        case 'j':
          event.preventDefault();
          chooseCandidate(store, current.candidate + 1);
          return;
        case 'k':
          event.preventDefault();
          chooseCandidate(store, current.candidate - 1);
          return;
        case 'c':
          if (!data) return;
          event.preventDefault();
          void copy(`group id ${data.groupId}`, data.groupId);
          return;
        case 'y': {
          const prompt = data?.prompts[current.candidate]?.prompt;
          if (!prompt) return;
          event.preventDefault();
          void copy('the prompt', promptText(prompt));
          return;
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);

  if (!run || !groupId) return <section className="screen"><h1>Group</h1><p className="muted empty">Open a group from the trajectories table.</p></section>;
  const neighbors = detail?.neighbors ?? null;
  return (
    <section className="screen group-screen" aria-labelledby="group-title">
      <header className="screen-head group-head">
        <button onClick={() => navStore.getState().back()} aria-label="Back">← Back</button>
        <h1 id="group-title" className="group-title">Group <code className="group-id" data-testid="group-id">{shownId}</code></h1>
        <button onClick={() => shownId && void copy(`group id ${shownId}`, shownId)} data-testid="copy-group-id" aria-label="Copy the group id">Copy id <kbd>c</kbd></button>
        {state.status === 'ready' && state.data.guidance && <span className="tag" data-testid="group-guidance-step">guidance step {state.data.guidance.step}</span>}
        {state.status === 'ready' && state.data.needReview && <span className="tag warn">need_review</span>}
      </header>
      <nav className="group-nav" aria-label="Previous and next group">
        <button onClick={() => void step(-1)} disabled={!neighbors?.previous || state.status !== 'ready'} data-testid="group-prev" title={neighbors?.previous?.group_id}>
          <kbd>[</kbd> Previous
        </button>
        <button onClick={() => void step(1)} disabled={!neighbors?.next || state.status !== 'ready'} data-testid="group-next" title={neighbors?.next?.group_id}>
          Next <kbd>]</kbd>
        </button>
        <span className="muted" data-testid="group-position">
          {neighbors === null ? '' : neighbors.index === null
            ? `not in the ${neighbors.source === 'table' ? 'table' : 'run'}'s rows`
            : `row ${neighbors.index + 1} of ${neighbors.total} in ${neighbors.source === 'table' ? 'the trajectories table (its filter and sort)' : 'the run order (selections)'}`}
        </span>
        <span role="status" className="copy-status" data-testid="copy-status">{copied ?? ''}</span>
      </nav>
      <StatusLine state={state} empty="" />
      {state.status === 'ready' && <GroupDetail detail={state.data} candidate={candidate} onSelect={(i) => chooseCandidate(store, i)} onCopyPrompt={(text) => void copy('the prompt', text)} />}
    </section>
  );
}

const candidateKey = (c: GroupDetailOutput['candidates'][number]) => `${c.epoch}-${c.candidate_index}`;

/** Selects candidate `index` (clamped by the store) and writes it into the route, replacing the history entry. */
function chooseCandidate(store: GroupStore, index: number): void {
  store.getState().selectCandidate(index);
  const { state, candidate } = store.getState();
  if (state.status === 'ready' && candidate >= 0) navStore.getState().setParam('candidate', candidateKey(state.data.candidates[candidate]));
}

function GroupDetail({ detail, candidate, onSelect, onCopyPrompt }: { detail: GroupDetailOutput; candidate: number; onSelect(index: number): void; onCopyPrompt(text: string): void }) {
  const latest = detail.selections[detail.selections.length - 1];
  const selected = candidate >= 0 ? detail.candidates[candidate] : undefined;
  return (
    <div className="group-detail">
      <ErrorBox error={detail.ticketError} title="Stage-A tickets could not be read" />
      {detail.tickets.map((ticket) => (
        <article key={ticket.ticket_key} className="card">
          <h2>Ticket <code className="group-id">{ticket.ticket_key}</code> <span className={`tag label-${ticket.label}`} data-testid="ticket-label">label: {ticket.label ? labelText(ticket.label, ticket.original_label) : 'none'}</span></h2>
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
        <h2>Candidates ({detail.candidates.length}) <span className="muted small">j / k select one; its prompt is below</span></h2>
        {detail.candidates.length === 0 ? <p className="muted">No candidates recorded.</p> : (
          <table className="candidates" data-testid="candidates">
            <thead><tr><th>Ep</th><th>#</th><th>Decode</th><th>Verdict</th><th>Conf</th><th>Signals</th><th>Response</th></tr></thead>
            <tbody>
              {detail.candidates.map((c, i) => (
                <tr key={`${c.epoch}-${c.candidate_index}-${c.ticket_key}`} aria-selected={i === candidate} onClick={() => onSelect(i)} data-testid={`candidate-${i}`} data-candidate={candidateKey(c)}
                  className={[c.signals.label_match === false ? 'mismatch' : '', i === candidate ? 'selected' : ''].filter(Boolean).join(' ') || undefined}>
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
      {selected && <CandidatePromptCard detail={detail} index={candidate} onCopy={onCopyPrompt} />}
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

function CandidatePromptCard({ detail, index, onCopy }: { detail: GroupDetailOutput; index: number; onCopy(text: string): void }) {
  const candidate = detail.candidates[index];
  const entry = detail.prompts[index];
  const prompt = entry?.prompt ?? null;
  const constraint = detail.constraint;
  const params: Array<[string, string]> = [
    ['temperature', String(candidate.decode.temperature)],
    ['top_p', String(candidate.decode.top_p)],
    ['seed', String(candidate.decode.seed)],
    ['max_new_tokens', String(candidate.decode.max_new_tokens)],
    ['prompt_variant', candidate.decode.prompt_variant],
    ['format', constraint ? constraint.format : '—'],
    ['max_reason_chars', constraint ? String(constraint.max_reason_chars) : '—'],
    ['constraint', constraint ? 'GBNF grammar (below)' : '—'],
    ['guidance step', String(candidate.guidance_step)],
    ['tokens', `${candidate.tokens.prompt} prompt · ${candidate.tokens.generated} generated`],
  ];
  return (
    <article className="card prompt-card" data-testid="candidate-prompt" aria-labelledby="prompt-title">
      <h2 id="prompt-title">Prompt of candidate {candidate.candidate_index} · epoch {candidate.epoch}</h2>
      <p className="muted small">
        The system and user messages exactly as the backend received them, rebuilt by the engine&apos;s prompt builder from the run&apos;s records.
        Not shown: the chat template the model wraps them in (llama.cpp applies the GGUF&apos;s own template; an OpenAI-compatible server its own).
      </p>
      {entry?.error && <ErrorBox error={entry.error} title="This prompt cannot be rebuilt" />}
      {prompt?.warnings.map((warning) => <p key={warning} className="warning-box" data-testid="prompt-warning">⚠ {PROMPT_WARNINGS[warning] ?? warning}</p>)}
      <div className="prompt-layout">
        <div className="prompt-messages">
          {prompt && (
            <>
              <div className="prompt-toolbar">
                <span className="muted small">
                  guidance step {prompt.guidance_step} ({prompt.guidance_source === 'history' ? RUN_FILES.guidanceHistory : 'snapshot'}) · ticket {prompt.stage_a.file}:{prompt.stage_a.line} · sha256 <code title={prompt.sha256}>{prompt.sha256.slice(0, 12)}…</code>
                </span>
                <button onClick={() => onCopy(promptText(prompt))} data-testid="copy-prompt">Copy prompt <kbd>y</kbd></button>
              </div>
              <h3>System</h3>
              <pre className="prompt-text" tabIndex={0} data-testid="prompt-system" aria-label="System message">{prompt.system}</pre>
              <h3>User</h3>
              <pre className="prompt-text" tabIndex={0} data-testid="prompt-user" aria-label="User message">{prompt.user}</pre>
            </>
          )}
        </div>
        <aside className="decode-params" aria-label="Decode parameters">
          <h3>Decode parameters</h3>
          <dl data-testid="decode-params">
            {params.map(([name, value]) => (
              <div key={name}><dt>{name}</dt><dd>{value}</dd></div>
            ))}
          </dl>
          {constraint && (
            <details>
              <summary>Grammar</summary>
              <pre className="prompt-text grammar" tabIndex={0}>{constraint.grammar}</pre>
            </details>
          )}
        </aside>
      </div>
    </article>
  );
}
