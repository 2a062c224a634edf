import { formatError } from '../../../shared/errors';
import { LineChart } from '../../shared/charts/LineChart';
import { duration } from '../../shared/format';
import { epochFraction, overallFraction, type JobProgress } from './jobProgress';

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

export function JobProgressView({ progress, onCancel }: { progress: JobProgress; onCancel(): void }) {
  const p = progress;
  const running = p.status === 'running' || p.status === 'starting';
  return (
    <div className="card job" data-testid="job-progress">
      <h2>Job {p.jobId} <span className={`status status-${p.status}`} data-testid="job-status">{p.status}</span></h2>
      <p className="muted">{p.phase ?? 'waiting for the engine'}{p.message ? ` — ${p.message}` : ''}</p>
      <Bar label={`overall · groups ${p.groupsDone}/${p.groupsTotal}`} value={overallFraction(p)} testId="bar-overall" />
      <Bar label={`epoch ${p.epoch !== null ? p.epoch + 1 : '—'}/${p.epochs ?? '—'} · ${p.epochGroupsDone}/${p.epochGroupsTotal}`} value={epochFraction(p)} testId="bar-epoch" />
      <p className="muted">batch {p.batchIndex !== null ? p.batchIndex + 1 : '—'}/{p.batches ?? '—'}</p>
      <p>tokens/s <strong>{p.tokensPerSecond === null ? '—' : p.tokensPerSecond.toFixed(1)}</strong> · ETA <strong>{running ? duration(p.etaMs) : '—'}</strong> · guidance step <strong>{p.guidanceStep ?? '—'}</strong></p>
      {p.error && <div className="error-box" role="alert"><pre>{formatError(p.error)}</pre></div>}
      <LineChart title="label_match per batch" xLabel="batch" yMin={0} yMax={1} height={130} series={[
        { name: 'label_match', className: 's1', points: p.curve.map((c, i) => ({ x: i, y: c.labelMatch })) },
        { name: 'false-release', className: 's2', points: p.curve.map((c, i) => ({ x: i, y: c.falseRelease })) },
      ]} />
      {running && <button onClick={onCancel} data-testid="job-cancel">Cancel run</button>}
      {p.log.length > 0 && <details><summary>log ({p.log.length})</summary><pre className="raw log">{p.log.slice(-60).join('\n')}</pre></details>}
    </div>
  );
}
