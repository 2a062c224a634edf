import { useStore } from 'zustand';
import { formatError } from '../../../shared/errors';
import type { HoldoutComparison, RuleAttribution } from '../../../shared/schemas/holdoutComparison';
import { navStore } from '../../app/navStore';
import { groupIdOfTicketKey, num, pct, time } from '../../shared/format';
import { formatDifference, holdoutJobFraction, isRunning, readInterval } from './holdoutEffects';
import { previewIsOutdated, type HoldoutStore } from './holdoutStore';
import type { JobProgress } from '../launcher/jobProgress';

function JobBar({ job, what, onCancel, testId }: { job: JobProgress; what: string; onCancel(): void; testId: string }) {
  const fraction = holdoutJobFraction(job);
  const value = fraction === null ? 0 : Math.round(fraction * 100);
  const running = isRunning(job);
  return (
    <div className="holdout-job" data-testid={testId}>
      <div className="bar-row">
        <span className="bar-label">{what}</span>
        <div className="bar" role="progressbar" aria-label={`${what} progress`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={value}>
          <div className="bar-fill" style={{ width: `${value}%` }} />
        </div>
        <span className="bar-value">{fraction === null ? '—' : `${value}%`}</span>
      </div>
      <p className="muted small" data-testid={`${testId}-status`}>
        <span className={`status status-${job.status}`}>{job.status}</span>
        {job.batches ? ` · guidance variant ${Math.min((job.batchIndex ?? 0) + 1, job.batches)} of ${job.batches}` : ''}
        {job.groupsTotal ? ` · ${job.groupsDone}/${job.groupsTotal} ticket evaluations` : ''}
        {job.message ? ` · ${job.message}` : ''}
        {running && <button onClick={onCancel} data-testid={`${testId}-cancel`}>Cancel</button>}
      </p>
      {job.status === 'failed' && job.log.length > 0 && <details><summary>engine log</summary><pre className="raw log">{job.log.slice(-30).join('\n')}</pre></details>}
    </div>
  );
}

function Verdict({ value }: { value: 'pass' | 'fail' | null }) {
  return <span className={`tag label-${value ?? 'none'}`}>{value ?? 'malformed'}</span>;
}

const INTERVAL_NOTE = 'Intervals are 95 % paired-bootstrap intervals over the holdout tickets; an interval that spans 0 is no evidence either way.';

/** "Attribute rules": each rule of the current guidance left out vs kept on the run's holdout. */
export function AttributionPanel({ holdout }: { holdout: HoldoutStore }) {
  const s = useStore(holdout);
  const running = isRunning(s.attributionJob);
  const r = s.attribution;
  return (
    <section className="card holdout-panel" aria-labelledby="attribution-title" data-testid="attribution-panel">
      <h2 id="attribution-title">Measured effect of each rule</h2>
      <div className="actions">
        <button className="primary" disabled={running} onClick={() => void holdout.getState().startAttribution(r !== null && r.guidance_step === s.currentStep)} data-testid="attribute-rules">
          {r && r.guidance_step === s.currentStep ? 'Measure again' : 'Attribute rules'}
        </button>
        <span className="muted small">Runs the holdout once with the whole guidance and once with each rule left out, as a job in the engine process.</span>
      </div>
      {s.attributionJob && (running || s.attributionJob.status !== 'completed') && (
        <JobBar job={s.attributionJob} what="attribution" onCancel={() => void holdout.getState().cancel('attribution')} testId="attribution-job" />
      )}
      {s.attributionError && <div className="error-box" role="alert"><pre>{formatError(s.attributionError)}</pre></div>}
      {!r && !running && <p className="muted" data-testid="attribution-none">No rule of this run has been measured yet.</p>}
      {r && (
        <>
          <p data-testid="attribution-summary">
            Guidance step <strong>{r.guidance_step}</strong>{r.guidance_step !== s.currentStep && <span className="warn-text"> (the guidance is now at step {s.currentStep})</span>}
            {s.stale && r.guidance_step === s.currentStep && <span className="warn-text"> (its text changed since it was measured)</span>}
            {' '}· {r.holdout.tickets} holdout tickets ({r.holdout.pass} pass, {r.holdout.fail} fail) · {r.holdout.candidates} candidates each · measured {time(r.created_at)}
          </p>
          <table className="attribution-table" data-testid="attribution-table">
            <thead>
              <tr><th>Rule</th><th>label_match with / without</th><th>Effect on label_match</th><th>false-release with / without</th><th>Effect on false-release</th><th>P(helps)</th><th>Verdicts changed</th></tr>
            </thead>
            <tbody>
              {r.rules.map((rule) => <AttributionRow key={rule.rule_id} rule={rule} />)}
            </tbody>
          </table>
          <p className="muted small">“With” is the guidance as it is, “without” the same guidance with the rule left out. {INTERVAL_NOTE}</p>
        </>
      )}
    </section>
  );
}

function AttributionRow({ rule }: { rule: RuleAttribution }) {
  const c = rule.comparison;
  return (
    <tr data-testid={`attribution-row-${rule.key}`} data-rule-id={rule.rule_id}>
      <td><code>{rule.key}</code><div className="muted small rule-text" title={rule.text}>{rule.text}</div></td>
      <td>{pct(c.candidate.label_match_rate)} / {pct(c.baseline.label_match_rate)}</td>
      <td className={`effect-${readInterval(c.label_match_difference, 'up')}`}>{formatDifference(c.label_match_difference)}</td>
      <td>{pct(c.candidate.false_release_rate)} / {pct(c.baseline.false_release_rate)}</td>
      <td className={`effect-${readInterval(c.false_release_difference, 'down')}`}>{formatDifference(c.false_release_difference)}</td>
      <td>{num(c.uplift_probability, 2)}</td>
      <td>{c.changed_tickets.length}</td>
    </tr>
  );
}

/** The last measured effect of one rule, beside it in the editor, with the step it was measured at. */
export function RuleEffect({ rule, step, stale }: { rule: RuleAttribution | undefined; step: number | null; stale: boolean }) {
  if (step === null) return null;
  if (!rule) return <span className="muted rule-effect" data-testid="rule-effect">not measured (not in the guidance of step {step})</span>;
  const c = rule.comparison;
  return (
    <span className="rule-effect" data-testid="rule-effect" title="label_match and false-release with the rule minus without it, 95 % paired-bootstrap interval">
      effect at step {step}{stale ? ' (text changed since)' : ''}: label_match <strong className={`effect-${readInterval(c.label_match_difference, 'up')}`}>{formatDifference(c.label_match_difference)}</strong>
      {' '}· false-release <strong className={`effect-${readInterval(c.false_release_difference, 'down')}`}>{formatDifference(c.false_release_difference)}</strong>
    </span>
  );
}

function ComparisonSummary({ c }: { c: HoldoutComparison }) {
  return (
    <table className="uplift" data-testid="preview-comparison">
      <thead><tr><th></th><th>label_match</th><th>false-release</th></tr></thead>
      <tbody>
        <tr><td>current guidance</td><td>{pct(c.baseline.label_match_rate)}</td><td>{pct(c.baseline.false_release_rate)}</td></tr>
        <tr><td>your draft</td><td>{pct(c.candidate.label_match_rate)}</td><td>{pct(c.candidate.false_release_rate)}</td></tr>
        <tr><td>change [95 %]</td>
          <td className={`effect-${readInterval(c.label_match_difference, 'up')}`} data-testid="preview-uplift">{formatDifference(c.label_match_difference)}</td>
          <td className={`effect-${readInterval(c.false_release_difference, 'down')}`} data-testid="preview-false-release">{formatDifference(c.false_release_difference)}</td></tr>
      </tbody>
    </table>
  );
}

/** "Evaluate on holdout": the editor's draft against the current guidance, before saving. */
export function PreviewPanel({ holdout, experiences }: { holdout: HoldoutStore; experiences: Record<string, string> }) {
  const s = useStore(holdout);
  if (!s.previewJob && !s.preview && !s.previewError) return null;
  const p = s.preview;
  const outdated = previewIsOutdated(s, experiences);
  return (
    <section className="card holdout-panel" aria-labelledby="preview-title" data-testid="preview-panel">
      <h2 id="preview-title">Your draft on the holdout</h2>
      {s.previewJob && s.previewJob.status !== 'completed' && (
        <JobBar job={s.previewJob} what="preview" onCancel={() => void holdout.getState().cancel('preview')} testId="preview-job" />
      )}
      {s.previewError && <div className="error-box" role="alert"><pre>{formatError(s.previewError)}</pre></div>}
      {p && (
        <>
          {outdated && <p className="warn-text" data-testid="preview-outdated">You changed the draft since this evaluation; evaluate again to measure the new text.</p>}
          <p className="muted">Against guidance step {p.guidance_step} · {p.holdout.tickets} holdout tickets ({p.holdout.pass} pass, {p.holdout.fail} fail) · P(uplift &gt; 0) = <strong data-testid="preview-probability">{num(p.comparison.uplift_probability, 2)}</strong></p>
          <ComparisonSummary c={p.comparison} />
          <p data-testid="preview-gate" className={p.gate.apply ? 'ok-text' : 'warn-text'}>
            The reflection gate would {p.gate.apply ? 'apply' : 'not apply'} this change{p.gate.reason ? ` (${p.gate.reason})` : ''}: {p.gate.why}
          </p>
          <h3>Tickets whose verdict changes ({p.comparison.changed_tickets.length})</h3>
          {p.comparison.changed_tickets.length === 0 ? <p className="muted" data-testid="preview-no-change">No holdout verdict changes with your draft.</p> : (
            <table className="changed-tickets" data-testid="preview-changed">
              <thead><tr><th>Ticket</th><th>Label</th><th>Current</th><th>Draft</th></tr></thead>
              <tbody>
                {p.comparison.changed_tickets.map((t) => (
                  <tr key={t.ticket_key} className={t.after === t.label ? 'fixed' : t.before === t.label ? 'broken' : undefined}>
                    <td><button className="link" onClick={() => navStore.getState().openGroup(groupIdOfTicketKey(t.ticket_key))}>{t.ticket_key}</button></td>
                    <td><Verdict value={t.label} /></td>
                    <td><Verdict value={t.before} /></td>
                    <td><Verdict value={t.after} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="muted small">{INTERVAL_NOTE} Nothing is saved by evaluating.</p>
        </>
      )}
      {!isRunning(s.previewJob) && <div className="actions"><button onClick={() => holdout.getState().closePreview()}>Close</button></div>}
    </section>
  );
}
