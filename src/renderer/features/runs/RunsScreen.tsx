import { useEffect } from 'react';
import { useStore } from 'zustand';
import type { RunSummary } from '../../../shared/api/contract';
import { formatError } from '../../../shared/errors';
import { navStore } from '../../app/navStore';
import { pct, time } from '../../shared/format';
import { KeyList } from '../../shared/ui/KeyList';
import { StatusLine } from '../../shared/ui/StatusLine';
import type { RunsStores } from './store';
import { compareStores, type ComparePick } from '../compare/store';

const isMarked = (pick: ComparePick | null, run: RunSummary) => pick !== null && pick.step === null && pick.runId === run.runId && pick.mission === run.mission;

/** `a` / `b` mark a run as side A / B of the compare screen, `c` opens it. */
function markForCompare(key: string, run: RunSummary): boolean {
  const picks = compareStores().picks.getState();
  if (key === 'a' || key === 'b') {
    if (picks.mode !== 'runs') picks.setMode('runs');
    picks.mark(key, { runId: run.runId, mission: run.mission, step: null });
    return true;
  }
  if (key === 'c') {
    navStore.getState().go('compare');
    return true;
  }
  return false;
}

export function RunsScreen({ stores }: { stores: RunsStores }) {
  const state = useStore(stores.runs, (s) => s.state);
  const selected = useStore(stores.selection, (s) => s.selected);
  const current = useStore(navStore, (s) => s.run);
  const compare = useStore(compareStores().picks);
  useEffect(() => void stores.runs.getState().load(undefined), [stores]);
  const runs = 'data' in state && state.data ? state.data : [];
  return (
    <section className="screen" aria-labelledby="runs-title">
      <header className="screen-head">
        <h1 id="runs-title">Runs and missions</h1>
        <button onClick={() => void stores.runs.getState().reload()}>Refresh</button>
        <span className="muted small"><kbd>a</kbd> / <kbd>b</kbd> mark run A / B, <kbd>c</kbd> compare them</span>
      </header>
      <StatusLine state={state} empty="No runs found under the runs folder." isEmpty={(d) => d.length === 0} />
      {runs.length > 0 && (
        <>
          <div className="list-head runs-grid">
            <span>Run / mission</span><span>Status</span><span>label_match</span><span>false-release</span><span>Step</span><span>Started</span><span>Finished</span>
          </div>
          <KeyList<RunSummary>
            testId="runs-list"
            label="Runs"
            items={runs}
            selected={Math.min(selected, runs.length - 1)}
            onSelect={(i) => stores.selection.getState().select(i)}
            onOpen={(run) => navStore.getState().selectRun({ runId: run.runId, mission: run.mission })}
            onKey={(key, run) => markForCompare(key, run)}
            itemKey={(run) => `${run.runId}/${run.mission}`}
            renderItem={(run) => (
              <div className="runs-grid">
                <span>
                  <strong>{run.runId}</strong> / {run.mission}
                  {current?.runId === run.runId && current.mission === run.mission && <span className="tag">open</span>}
                  {isMarked(compare.a, run) && <span className="tag" data-testid="compare-mark-a">A</span>}
                  {isMarked(compare.b, run) && <span className="tag warn" data-testid="compare-mark-b">B</span>}
                  {run.error && <span className="error-inline" title={formatError(run.error)}> ⚠ {formatError(run.error)}</span>}
                </span>
                <span className={`status status-${run.status}`}>{run.status}</span>
                <span>{pct(run.label_match_rate)}</span>
                <span>{pct(run.false_release_rate)}</span>
                <span>{run.guidance_step ?? '—'}</span>
                <span>{time(run.started_at)}</span>
                <span>{time(run.finished_at)}</span>
              </div>
            )}
          />
        </>
      )}
    </section>
  );
}
