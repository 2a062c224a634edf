import { useEffect } from 'react';
import { useStore } from 'zustand';
import { formatError } from '../../../shared/errors';
import { getApiClient } from '../../app/apiClient';
import { CodeEditor } from '../../shared/monaco/CodeEditor';
import { configModelPath } from '../../shared/monaco/setupMonaco';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { KeyList } from '../../shared/ui/KeyList';
import { time } from '../../shared/format';
import { useDebounced } from '../trajectories/useDebounced';
import { JobProgressView } from './JobProgressView';
import { isPausableKind } from './jobProgress';
import type { LauncherStore } from './store';

export function LauncherScreen({ store }: { store: LauncherStore }) {
  const s = useStore(store);
  useEffect(() => {
    void store.getState().loadConfigs();
    return getApiClient().onEvent((event) => store.getState().onEvent(event));
  }, [store]);
  const debounced = useDebounced(s.text, 400);
  useEffect(() => {
    if (store.getState().path) void store.getState().validate();
  }, [debounced, store]);
  const active = s.activeJob ? s.progress[s.activeJob] : undefined;
  const markers = s.validation && !s.validation.ok ? s.validation.errors.filter((e) => e.location.line).map((e) => ({ line: e.location.line!, message: formatError(e) })) : [];
  return (
    <section className="screen split-screen" aria-labelledby="launch-title">
      <header className="screen-head"><h1 id="launch-title">Launcher</h1></header>
      <ErrorBox error={s.error} />
      <div className="split">
        <div className="split-list">
          {s.configs.length === 0 ? <p className="muted empty">No configs found in the configs folder.</p> : (
            <KeyList testId="config-list" label="Configs" items={s.configs} selected={s.selected}
              onSelect={(i) => store.getState().select(i)} onOpen={(c) => void store.getState().openConfig(c.path)}
              itemKey={(c) => c.path} renderItem={(c) => <div><strong>{c.path}</strong><div className="muted small">{time(c.modified_at)}</div></div>} />
          )}
          {s.jobs.length > 0 && (
            <div className="jobs"><h3>Jobs</h3>
              <ul>{s.jobs.map((j) => <li key={j.jobId}><button className="link" onClick={() => store.setState({ activeJob: j.jobId })}>{j.jobId}</button> {j.kind} · {s.progress[j.jobId]?.status ?? j.status}</li>)}</ul>
            </div>
          )}
        </div>
        <div className="split-detail">
          {!s.path && <p className="muted">Press Enter on a config to open it.</p>}
          {s.path && (
            <>
              <h2>{s.path}{s.text !== s.savedText ? ' (edited)' : ''}</h2>
              <CodeEditor value={s.text} onChange={(t) => store.getState().setText(t)} language="yaml" path={configModelPath(s.path)} height={300} markers={markers} testId="config-editor" />
              <div data-testid="config-validation">
                {s.validation?.ok && <p className="ok-text">Config is valid.</p>}
                {s.validation && !s.validation.ok && <ul className="issues">{s.validation.errors.map((e, i) => <li key={i} className="field-error">{formatError(e)}</li>)}</ul>}
              </div>
              <div className="actions">
                <label>Kind
                  <select value={s.kind} onChange={(e) => store.getState().setKind(e.target.value as 'stage_b' | 'distill')} data-testid="launch-kind">
                    <option value="stage_b">Stage-B run</option><option value="distill">distill export</option>
                  </select>
                </label>
                <button className="primary" disabled={s.busy || (s.validation !== null && !s.validation.ok)} onClick={() => void store.getState().start()} data-testid="launch-start">
                  {s.text !== s.savedText ? 'Save and start' : 'Start'}
                </button>
              </div>
            </>
          )}
          {active && <JobProgressView progress={active} onCancel={() => void store.getState().cancel(active.jobId)}
            {...(isPausableKind(s.jobs.find((j) => j.jobId === active.jobId)?.kind) ? { onPause: () => void store.getState().pause(active.jobId), onResume: () => void store.getState().resume(active.jobId) } : {})} />}
        </div>
      </div>
    </section>
  );
}
