import { useEffect } from 'react';
import { useStore } from 'zustand';
import type { SnapshotInfo } from '../../../shared/api/contract';
import { formatError } from '../../../shared/errors';
import { navStore } from '../../app/navStore';
import { time } from '../../shared/format';
import { TextDiff } from '../../shared/monaco/TextDiff';
import { ConfirmDialog } from '../../shared/ui/ConfirmDialog';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { KeyList } from '../../shared/ui/KeyList';
import { RuleIdDiffTable } from '../reflection/RuleIdDiffTable';
import { renderExperiences } from '../reflection/ruleDiff';
import type { SnapshotsStore } from './store';

export function SnapshotsScreen({ store }: { store: SnapshotsStore }) {
  const run = useStore(navStore, (s) => s.run);
  const s = useStore(store);
  // The previewed snapshot is the route's (?snapshot=<name>): opening one sets it, a link opens it.
  const wanted = useStore(navStore, (x) => x.route.params.snapshot ?? null);
  useEffect(() => {
    if (run) void store.getState().load(run);
  }, [run, store]);
  const wantedIndex = wanted === null ? -1 : s.snapshots.findIndex((x) => x.name === wanted);
  useEffect(() => {
    if (wantedIndex >= 0 && store.getState().preview?.name !== wanted) void store.getState().openPreview(wantedIndex);
  }, [wanted, wantedIndex, store]);
  if (!run) return <section className="screen"><h1>Snapshots</h1><p className="muted empty">Open a run first.</p></section>;
  return (
    <section className="screen split-screen" aria-labelledby="snap-title">
      <header className="screen-head">
        <h1 id="snap-title">Snapshot history</h1>
        {s.current && <span className="tag" data-testid="snapshots-current-step">current step {s.current.step}</span>}
      </header>
      {s.loading && s.snapshots.length === 0 && <p className="muted" role="status">Loading…</p>}
      <ErrorBox error={s.error} />
      {s.result?.status === 'ok' && <div className="banner ok" role="status" data-testid="rollback-done">Rolled back: guidance is now step {s.result.state.step}.</div>}
      {s.result?.status === 'conflict' && <div className="banner warn" role="alert">Rollback refused: {formatError(s.result.error)} — the guidance moved to step {s.result.theirs.step}; review and try again.</div>}
      {!s.loading && !s.error && s.snapshots.length === 0 && <p className="muted empty">No snapshots yet: one is written before every guidance change.</p>}
      {wanted !== null && wantedIndex < 0 && !s.loading && s.ref?.runId === run.runId && s.ref.mission === run.mission && (
        <div className="banner warn" role="status" data-testid="snapshot-missing">This run has no snapshot {wanted}.</div>
      )}
      {s.snapshots.length > 0 && (
        <div className="split">
          <div className="split-list">
            <KeyList<SnapshotInfo>
              testId="snapshot-list" label="Snapshots" items={s.snapshots} selected={s.selected}
              onSelect={(i) => store.getState().select(i)} onOpen={(x, i) => {
                if (x.name === wanted) void store.getState().openPreview(i);
                else navStore.getState().setParam('snapshot', x.name);
              }}
              itemKey={(x) => x.name}
              renderItem={(x) => <div><strong>step {x.step ?? '?'}</strong> <span className="muted">{time(x.updated_at)}</span><div className="muted small">{x.name}</div></div>}
            />
          </div>
          <div className="split-detail">
            <ErrorBox error={s.previewError} />
            {!s.preview && <p className="muted">Press Enter on a snapshot to preview it against the current guidance.</p>}
            {s.preview && s.current && (
              <div data-testid="snapshot-preview">
                <h2>{s.preview.name}: step {s.preview.state.step} vs current step {s.current.step}</h2>
                <button className="primary" onClick={() => store.getState().askRollback()} data-testid="rollback">Roll back to this snapshot…</button>
                <RuleIdDiffTable before={s.current} after={s.preview.state} />
                <TextDiff original={renderExperiences(s.current.experiences)} modified={renderExperiences(s.preview.state.experiences)} />
              </div>
            )}
          </div>
        </div>
      )}
      {s.confirming && s.preview && s.current && (
        <ConfirmDialog title="Roll back guidance?" confirmLabel="Roll back" busy={s.rollingBack}
          onConfirm={() => void store.getState().rollback()} onCancel={() => store.getState().cancelRollback()}>
          <p>This writes the experiences of step {s.preview.state.step} as a new step {s.current.step + 1}. Nothing is deleted; the current step {s.current.step} stays in the snapshots.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
