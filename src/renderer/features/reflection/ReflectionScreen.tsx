import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import type { ReflectionLogOutput } from '../../../shared/api/contract';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import { navStore } from '../../app/navStore';
import { groupIdOfTicketKey, num, pct, time } from '../../shared/format';
import { KeyList } from '../../shared/ui/KeyList';
import { StatusLine } from '../../shared/ui/StatusLine';
import { TextDiff } from '../../shared/monaco/TextDiff';
import { RuleDiffTable } from './RuleDiffTable';
import { RuleIdDiffTable } from './RuleIdDiffTable';
import { sortedExperienceKeys } from '../../shared/experienceKeys';
import { renderExperiences } from './ruleDiff';
import type { ReflectionStores } from './store';
import { RUN_FILES } from '../../../shared/runFiles';

type Row = ReflectionLogOutput['rows'][number];

export function ReflectionScreen({ stores }: { stores: ReflectionStores }) {
  const run = useStore(navStore, (s) => s.run);
  const state = useStore(stores.log, (s) => s.state);
  // The selected decision is the route's (?decision=<reflection_id>): moving in the list sets it, a link opens it.
  const decision = useStore(navStore, (s) => s.route.params.decision ?? null);
  const [appliedOnly, setAppliedOnly] = useState(false);
  const [limit, setLimit] = useState(200);
  useEffect(() => {
    if (run) void stores.log.getState().load({ ...run, appliedOnly, limit });
  }, [run, appliedOnly, limit, stores]);
  if (!run) return <section className="screen"><h1>Reflection</h1><p className="muted empty">Open a run first.</p></section>;
  const data = 'data' in state ? state.data : undefined;
  const rows = data?.rows ?? [];
  const found = decision === null ? -1 : rows.findIndex((r) => r.record.reflection.reflection_id === decision);
  const selected = Math.max(0, found);
  const current = rows[selected];
  const select = (i: number) => {
    const row = rows[i];
    if (!row) return;
    navStore.getState().setParam('decision', row.record.reflection.reflection_id);
  };
  return (
    <section className="screen split-screen" aria-labelledby="refl-title">
      <header className="screen-head">
        <h1 id="refl-title">Reflection timeline</h1>
        <label><input type="checkbox" checked={appliedOnly} onChange={(e) => setAppliedOnly(e.target.checked)} /> applied only</label>
        {data && <span className="muted">{data.total} decisions</span>}
      </header>
      <StatusLine state={state} empty="No reflection decisions yet." isEmpty={(d) => d.rows.length === 0} />
      {decision !== null && found < 0 && rows.length > 0 && state.status === 'ready' && (
        <div className="banner warn" role="status" data-testid="decision-missing">Decision {decision} is not in this list{appliedOnly ? ' of applied decisions' : ''}; showing the first.</div>
      )}
      {rows.length > 0 && (
        <div className="split">
          <div className="split-list">
            <KeyList<Row>
              testId="reflection-list" label="Reflection decisions" items={rows} selected={selected}
              onSelect={select}
              onOpen={(_, i) => { select(i); document.getElementById('reflection-detail')?.focus(); }}
              itemKey={(r) => `${r.line}`}
              renderItem={(r) => (
                <div className="refl-item">
                  <span>e{r.record.epoch} b{r.record.reflection.batch_index} c{r.record.reflection.cycle}</span>
                  <span className={`tag ${r.record.reflection.applied ? 'ok' : r.record.reflection.eligible ? '' : 'warn'}`}>
                    {r.record.reflection.applied ? 'applied' : r.record.reflection.ineligible_reason ?? (r.record.reflection.eligible ? 'not applied' : 'ineligible')}
                  </span>
                  <span className="muted">step {r.record.reflection.guidance_step_before}→{r.record.reflection.guidance_step_after}</span>
                </div>
              )}
            />
            {data && data.total > rows.length && <button onClick={() => setLimit(Math.min(200, limit + 50))} disabled={limit >= 200}>Showing first {rows.length}</button>}
          </div>
          {current && <ReflectionDetail row={current} />}
        </div>
      )}
    </section>
  );
}

function ReflectionDetail({ row }: { row: Row }) {
  const r = row.record.reflection;
  return (
    <div className="split-detail" id="reflection-detail" tabIndex={-1} data-testid="reflection-detail">
      <h2>{r.reflection_id}</h2>
      <p>
        epoch {row.record.epoch} · batch {r.batch_index} · cycle {r.cycle} · {time(row.record.created_at)} · action <strong>{r.proposal.action}</strong> ·{' '}
        {r.eligible ? 'eligible' : <span className="warn-text">ineligible</span>} · <strong>{r.applied ? 'applied' : 'not applied'}</strong>
        {r.ineligible_reason && <span className="tag warn" data-testid="decision-reason">{r.ineligible_reason}</span>}
      </p>
      {(r.decision_detail || (!r.applied && r.ineligible_reason)) && (
        <p className={r.applied ? 'decision-detail' : 'decision-detail warn'} data-testid="decision-detail">
          <strong>{r.applied ? 'Gate:' : 'Why it was not applied:'}</strong> {r.decision_detail ?? REASON_TEXT[r.ineligible_reason ?? ''] ?? r.ineligible_reason}
        </p>
      )}
      {r.review_items.length > 0 && (
        <p data-testid="decision-queued">{r.review_items.length} operation{r.review_items.length === 1 ? '' : 's'} on protected rules went to the review queue.{' '}
          <button className="link" onClick={() => navStore.getState().go('review')}>Open the review queue</button></p>
      )}
      <table className="uplift">
        <thead><tr><th></th><th>label_match</th><th>false-release</th><th>n</th></tr></thead>
        <tbody>
          <tr><td>pre</td><td>{pct(r.pre_uplift?.label_match_rate)}</td><td>{pct(r.pre_uplift?.false_release_rate)}</td><td>{r.pre_uplift?.n ?? '—'}</td></tr>
          <tr><td>post</td><td>{pct(r.post_uplift?.label_match_rate)}</td><td>{pct(r.post_uplift?.false_release_rate)}</td><td>{r.post_uplift?.n ?? '—'}</td></tr>
        </tbody>
      </table>
      <p>P(uplift &gt; 0) (paired bootstrap): <strong>{num(r.uplift_probability, 3)}</strong></p>
      <p><strong>Summary:</strong> {r.proposal.summary}</p>
      <p><strong>Critique:</strong> {r.proposal.critique}</p>
      {r.proposal.uncertainty_note && <p className="warn-text">Uncertainty: {r.proposal.uncertainty_note}</p>}
      <h3>Operations</h3>
      {r.proposal.operations.length === 0 ? <p className="muted">No operations.</p> : (
        <ul className="ops">
          {r.proposal.operations.map((op, i) => (
            <li key={i}>
              <code>{op.op} {op.key}</code>{op.merge_from?.length ? ` ← ${op.merge_from.join(', ')}` : ''} {op.text && <q>{op.text}</q>}
              {op.rationale && <div className="muted">{op.rationale}</div>}
              <div className="evidence">evidence: {op.evidence.map((key) => (
                <button key={key} className="link" onClick={() => navStore.getState().openGroup(groupIdOfTicketKey(key))} data-testid="evidence-link">{key}</button>
              ))}</div>
            </li>
          ))}
        </ul>
      )}
      {r.proposal.evidence_group_ids.length > 0 && (
        <p>Evidence groups: {r.proposal.evidence_group_ids.map((g) => <button key={g} className="link" onClick={() => navStore.getState().openGroup(groupIdOfTicketKey(g))}>{g}</button>)}</p>
      )}
      <DecisionChanges row={row} />
    </div>
  );
}

/** Short words for reasons of older records that carry no decision_detail. */
const REASON_TEXT: Record<string, string> = {
  holdout_no_uplift: 'the holdout label_match did not improve by apply_if_delta',
  holdout_false_release_increase: 'the holdout false-release rate rose',
  uncertain_rejected: 'the proposal carried an uncertainty note and reflection.allow_uncertain is false',
  non_conflict_bundle: 'the batch had no conflict to learn from',
  no_operations: 'the model proposed no operation',
  generation_error: 'the model output could not be parsed',
  rejected_operation: 'an operation was invalid (unknown key, G0 removal, invariant change…)',
  step_conflict: 'the guidance moved while the holdout ran (compare-and-swap lost)',
  queued_for_review: 'every operation touched a protected rule; all went to the review queue',
};

/**
 * What a decision proposed (from its batch_update artifact), applied or not, diffed by
 * rule_id against the step it was proposed on; and for an applied one, what was written.
 */
function DecisionChanges({ row }: { row: Row }) {
  const r = row.record.reflection;
  const proposed = row.proposed_guidance;
  const base = row.proposed_base;
  const before = row.guidance_before;
  const after = row.guidance_after;
  const appliedAsProposed = Boolean(r.applied && proposed && after && renderExperiences(proposed.experiences) === renderExperiences(after.experiences));
  return (
    <>
      <h3>Proposed change {proposed ? `(on step ${r.guidance_step_before})` : ''}</h3>
      {proposed && base && !sharesRuleIds(base, proposed) ? (
        <>
          <p className="muted small">The rule ids of step {r.guidance_step_before} were not kept (only its text survives), so this diff compares by key.</p>
          <RuleDiffTable before={base.experiences} after={proposed.experiences} />
          {!r.applied && <TextDiff original={renderExperiences(base.experiences)} modified={renderExperiences(proposed.experiences)} />}
        </>
      ) : proposed && base ? (
        <>
          <RuleIdDiffTable before={base} after={proposed} testId="proposed-diff" />
          {!r.applied && <TextDiff original={renderExperiences(base.experiences)} modified={renderExperiences(proposed.experiences)} />}
        </>
      ) : proposed ? (
        <>
          <p className="muted">The guidance of step {r.guidance_step_before} is no longer available; the proposed guidance in full:</p>
          <ol className="rules" data-testid="proposed-rules">{sortedExperienceKeys(proposed.experiences).map((k) => <li key={k}><code>{k}</code> {proposed.experiences[k]}</li>)}</ol>
        </>
      ) : (
        <p className="muted" data-testid="no-proposal">{r.proposal.operations.length === 0 ? 'Nothing was proposed.' : `No batch-update artifact records the guidance this proposal would give (the decision stopped before the batch update, or its ${RUN_FILES.reflectionCache} is gone); its operations are listed above.`}</p>
      )}
      {r.applied && (
        <>
          <h3>Applied: guidance step {r.guidance_step_before} → {r.guidance_step_after}{appliedAsProposed ? ' (as proposed)' : ''}</h3>
          {before && after ? (
            <>
              {!appliedAsProposed && <RuleIdDiffTable before={before} after={after} testId="rule-diff" />}
              {appliedAsProposed && <div data-testid="rule-diff" className="muted">The applied change equals the proposal above.</div>}
              <TextDiff original={renderExperiences(before.experiences)} modified={renderExperiences(after.experiences)} />
            </>
          ) : before || after ? (
            <>
              <RuleDiffTable before={before?.experiences} after={after?.experiences} />
              <TextDiff original={renderExperiences(before?.experiences)} modified={renderExperiences(after?.experiences)} />
            </>
          ) : <p className="muted">The guidance of these steps is no longer available.</p>}
        </>
      )}
    </>
  );
}

/** Whether two states name any rule alike: a state rebuilt from guidance_history has text-derived ids only. */
function sharesRuleIds(a: GuidanceState, b: GuidanceState): boolean {
  const ids = new Set(Object.values(a.metadata).map((m) => m.rule_id));
  return Object.values(b.metadata).some((m) => ids.has(m.rule_id));
}
