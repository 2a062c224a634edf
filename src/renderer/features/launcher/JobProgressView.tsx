import { lazy, Suspense, useEffect, useMemo, useRef } from 'react';
import { formatError } from '../../../shared/errors';
import { navStore } from '../../app/navStore';
import { duration } from '../../shared/format';
import { isTypingTarget } from '../../shared/keyboard/listNavigation';
import { jobCurveSpec } from './jobCurveChart';
import { epochFraction, jobControls, overallFraction, pauseStatusText, type JobProgress } from './jobProgress';

// uPlot loads with the first batch's chart (the same chunk as the Charts screen's), never with the shell.
const UPlotChart = lazy(() => import('../charts/UPlotChart'));

type JobActions = { onCancel(): void; onPause?(): void; onResume?(): void };

/** p / x on the launcher, unless a field, the editor, a dialog or the help overlay has the keys. */
function useJobControlKeys(progress: JobProgress, actions: JobActions) {
  const latest = useRef({ progress, actions });
  latest.current = { progress, actions };
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
      if (isTypingTarget(event.target as HTMLElement) || navStore.getState().helpOpen || document.querySelector('[role="dialog"]')) return;
      const { progress: p, actions: a } = latest.current;
      const can = jobControls(p);
      if (event.key === 'p') {
        if (can.pause && a.onPause) a.onPause();
        else if (can.resume && a.onResume) a.onResume();
        else return;
        event.preventDefault();
      } else if (event.key === 'x' && can.cancel) {
        event.preventDefault();
        a.onCancel();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

function Bar({ label, value, testId }: { label: string; value: number | null; testId?: string }) {
  const pct = value === null ? 0 : Math.round(value * 100);
  return (
    <div className="bar-row">
      <span className="bar-label">{label}</span>
      <div className="bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid={testId}>
        <div className="bar-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="bar-value">{value === null ? '—' : `${pct}%`}</span>
    </div>
  );
}

/**
 * A job's live progress and its controls: Pause (the engine finishes the batch in flight and its
 * reflection, then waits with the model loaded), Resume, Cancel; p and x do the same.
 */
export function JobProgressView({ progress, onCancel, onPause, onResume }: { progress: JobProgress } & JobActions) {
  const p = progress;
  // A paused run has no ETA: the rate it was measured at resumes with the run.
  const running = p.status === 'running' || p.status === 'starting' || p.status === 'pausing';
  const can = jobControls(p);
  const pauseText = pauseStatusText(p);
  useJobControlKeys(p, { onCancel, onPause, onResume });
  const curve = useMemo(() => jobCurveSpec(p.curve), [p.curve]);
  return (
    <div className="card job" data-testid="job-progress">
      <p className="job-state">status <span className={`status status-${p.status}`} data-testid="job-status">{p.status}</span></p>
      {can.cancel && (
        <div className="actions job-controls" role="group" aria-label="Run control">
          {onPause && <button onClick={onPause} disabled={!can.pause} data-testid="job-pause" aria-keyshortcuts="p">Pause <kbd>p</kbd></button>}
          {onResume && <button className={p.status === 'paused' ? 'primary' : undefined} onClick={onResume} disabled={!can.resume} data-testid="job-resume" aria-keyshortcuts="p">Resume <kbd>p</kbd></button>}
          <button onClick={onCancel} disabled={!can.cancel} data-testid="job-cancel" aria-keyshortcuts="x">Cancel run <kbd>x</kbd></button>
        </div>
      )}
      {pauseText && <p className={p.status === 'paused' ? 'banner' : 'banner warn'} role="status" data-testid="job-paused">{pauseText}</p>}
      <p className="muted">{p.phase ?? 'waiting for the engine'}{p.message ? ` — ${p.message}` : ''}</p>
      <Bar label={`overall · groups ${p.groupsDone}/${p.groupsTotal}`} value={overallFraction(p)} testId="bar-overall" />
      <Bar label={`epoch ${p.epoch !== null ? p.epoch + 1 : '—'}/${p.epochs ?? '—'} · ${p.epochGroupsDone}/${p.epochGroupsTotal}`} value={epochFraction(p)} testId="bar-epoch" />
      <p className="muted">batch {p.batchIndex !== null ? p.batchIndex + 1 : '—'}/{p.batches ?? '—'}</p>
      <p>tokens/s <strong>{p.tokensPerSecond === null ? '—' : p.tokensPerSecond.toFixed(1)}</strong> · ETA <strong data-testid="job-eta">{p.status === 'paused' ? 'paused' : running ? duration(p.etaMs) : '—'}</strong> · guidance step <strong>{p.guidanceStep ?? '—'}</strong></p>
      {p.error && (p.status === 'cancelled' && p.error.code === 'CANCELLED'
        ? <p className="banner" role="status" data-testid="job-cancelled">Cancelled: the run stopped at a safe point; starting the same config again resumes it.</p>
        : <div className="error-box" role="alert"><pre>{formatError(p.error)}</pre></div>)}
      <figure className="chart" data-testid="job-chart">
        <figcaption>{curve.title}</figcaption>
        {curve.xLabels.length === 0
          ? <p className="muted small">{curve.empty}</p>
          : <Suspense fallback={<p className="muted small">Loading the chart…</p>}><UPlotChart spec={curve} height={180} /></Suspense>}
      </figure>
      {p.log.length > 0 && <details><summary>log ({p.log.length})</summary><pre className="raw log">{p.log.slice(-60).join('\n')}</pre></details>}
    </div>
  );
}
