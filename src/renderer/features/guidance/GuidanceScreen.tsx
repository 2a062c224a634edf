import { useEffect } from 'react';
import { useStore } from 'zustand';
import { getApiClient } from '../../app/apiClient';
import { navStore } from '../../app/navStore';
import { time } from '../../shared/format';
import { CodeEditor } from '../../shared/monaco/CodeEditor';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { MergeView } from './MergeView';
import { GuidanceNoticeView } from './GuidanceNoticeView';
import type { ReviewQueueStore } from '../review/store';
import { AttributionPanel, PreviewPanel } from './HoldoutPanels';
import { isRunning } from './holdoutEffects';
import type { HoldoutStore } from './holdoutStore';
import { RulesEditor } from './RulesEditor';
import { saveBlockedReason, type GuidanceEditorStore } from './store';
import { ConfirmDialog } from '../../shared/ui/ConfirmDialog';

const POLL_MS = 2000;

export function GuidanceScreen({ store, review, holdout }: { store: GuidanceEditorStore; review: ReviewQueueStore; holdout: HoldoutStore }) {
  const run = useStore(navStore, (s) => s.run);
  const s = useStore(store);
  useEffect(() => {
    if (!run) return;
    void store.getState().load(run);
    void review.getState().load(run);
    void holdout.getState().load(run);
    const timer = setInterval(() => {
      void store.getState().poll();
      void review.getState().refresh();
      void holdout.getState().poll();
    }, POLL_MS);
    const off = getApiClient().onEvent((event) => {
      if (event.type === 'run_event' && event.event.type === 'guidance') void store.getState().poll();
      holdout.getState().onEvent(event);
    });
    return () => {
      clearInterval(timer);
      off();
    };
  }, [run, store, review, holdout]);
  const serverStep = s.server?.step ?? null;
  useEffect(() => {
    // The measured effects are per step: a new step may have its own (or make the shown one older).
    if (serverStep !== null) void holdout.getState().loadAttribution();
  }, [holdout, serverStep]);
  const previewRunning = useStore(holdout, (x) => isRunning(x.previewJob));
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key === 's') {
        event.preventDefault();
        if (store.getState().conflict) void store.getState().saveMerge();
        else void store.getState().save();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);
  if (!run) return <section className="screen"><h1>Guidance</h1><p className="muted empty">Open a run first.</p></section>;
  const blocked = saveBlockedReason(s);
  const markers = s.issues.filter((i) => i.line !== undefined).map((i) => ({ line: i.line!, message: i.message }));
  return (
    <section className="screen guidance-screen" aria-labelledby="guidance-title">
      <header className="screen-head">
        <h1 id="guidance-title">Guidance — {run.mission}</h1>
        {s.server && <span className="tag" data-testid="guidance-step">step {s.server.step}</span>}
        {s.baseStep !== null && <span className="muted">editing on step {s.baseStep}{s.dirty ? ' · unsaved changes (kept as a draft)' : ''}</span>}
        {s.server && <span className="muted">updated {time(s.server.updated_at)}</span>}
      </header>
      {s.loading && !s.server && <p className="muted" role="status">Loading…</p>}
      <ErrorBox error={s.loadError} />
      <GuidanceNoticeView store={store} />
      <PendingReviews review={review} />
      {s.remoteStep !== null && !s.conflict && !s.notice && (
        <div className="banner warn" role="alert" data-testid="guidance-moved">
          The guidance changed under you: it is now at step {s.remoteStep}; your edit is based on step {s.baseStep}. Your text is kept; saving opens the merge.
        </div>
      )}
      {s.restoredDraftStep !== null && !s.conflict && (
        <div className="banner" role="status" data-testid="draft-restored">Restored your unsaved draft (based on step {s.restoredDraftStep}).
          <button onClick={() => store.getState().askDiscard()}>Discard it…</button></div>
      )}
      {s.lastSavedStep !== null && !s.dirty && !s.notice && <div className="banner ok" role="status" data-testid="guidance-saved">Saved as step {s.lastSavedStep}.</div>}
      {s.discarded && !s.dirty && (
        <div className="banner" role="status" data-testid="discarded">Your edits (based on step {s.discarded.baseStep}) were discarded.
          <button onClick={() => store.getState().undoDiscard()} disabled={s.loading} data-testid="undo-discard">Undo</button></div>
      )}
      {s.confirmingDiscard && (
        <ConfirmDialog title="Discard your edits?" confirmLabel="Discard" onConfirm={() => store.getState().discardEdits()} onCancel={() => store.getState().cancelDiscard()}>
          <p>Your unsaved text{s.baseStep !== null ? ` (based on step ${s.baseStep})` : ''} and its draft are thrown away and the editor shows the guidance on disk. You can undo this until you edit again.</p>
        </ConfirmDialog>
      )}
      <MergeView store={store} />
      {s.server && !s.conflict && (
        <>
          <div className="tabs" role="tablist">
            <button role="tab" aria-selected={s.mode === 'rules'} onClick={() => store.getState().setMode('rules')} data-testid="mode-rules">Rules</button>
            <button role="tab" aria-selected={s.mode === 'raw'} onClick={() => store.getState().setMode('raw')} data-testid="mode-raw">Raw JSON</button>
          </div>
          {s.mode === 'rules' ? <RulesEditor store={store} holdout={holdout} /> : (
            <CodeEditor value={s.rawText} onChange={(t) => store.getState().setRaw(t)} language="json" markers={markers} testId="guidance-raw" />
          )}
          {s.issues.length > 0 && (
            <ul className="issues" data-testid="guidance-issues">
              {s.issues.map((i, n) => <li key={n} className="field-error">{i.line ? `line ${i.line}: ` : ''}{i.message}</li>)}
            </ul>
          )}
          <ErrorBox error={s.saveError} />
          <div className="actions">
            <button className="primary" disabled={blocked !== null} onClick={() => void store.getState().save()} data-testid="guidance-save"
              aria-describedby={blocked && s.issues.length > 0 ? 'save-blocked' : undefined}>
              {s.saving ? 'Saving…' : 'Save (Ctrl+S)'}
            </button>
            <button disabled={!s.dirty} onClick={() => store.getState().askDiscard()} data-testid="guidance-discard">Discard edits…</button>
            <button disabled={!s.dirty || s.issues.length > 0 || previewRunning} onClick={() => void holdout.getState().startPreview(s.experiences)} data-testid="evaluate-holdout"
              title="Runs your draft against the current guidance on this run's holdout, as a job in the engine process; nothing is saved">
              {previewRunning ? 'Evaluating…' : 'Evaluate on holdout'}
            </button>
            {blocked && s.issues.length > 0 && <span id="save-blocked" className="field-error" role="status" data-testid="save-blocked">{blocked}</span>}
          </div>
          <PreviewPanel holdout={holdout} experiences={s.experiences} />
          <AttributionPanel holdout={holdout} />
        </>
      )}
    </section>
  );
}

/** Reflection's proposals on protected rules wait in the review queue; the editor says how many. */
function PendingReviews({ review }: { review: ReviewQueueStore }) {
  const pending = useStore(review, (s) => s.pending);
  if (pending === 0) return null;
  return (
    <div className="banner" role="status" data-testid="guidance-pending-reviews">
      {pending} proposal{pending === 1 ? '' : 's'} by reflection on protected rules wait{pending === 1 ? 's' : ''} for a person's decision.
      <button onClick={() => navStore.getState().go('review')}><kbd>9</kbd> Open the review queue</button>
    </div>
  );
}
