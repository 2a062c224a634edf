import { useEffect, useRef } from 'react';
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
import { CONFIG_GROUPS, configNameError, draftModelPath, jobTitle, type LauncherStore } from './store';

const LIST_IDS: Record<string, string> = { run: 'config-list', fusion: 'config-list-fusion', sft: 'config-list-sft', unknown: 'config-list-other' };

export function LauncherScreen({ store }: { store: LauncherStore }) {
  const s = useStore(store);
  const nameInput = useRef<HTMLInputElement>(null);
  // The safe choice has the focus: a second Enter after the warning keeps the existing file.
  const keepButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    void store.getState().loadConfigs();
    return getApiClient().onEvent((event) => store.getState().onEvent(event));
  }, [store]);
  const debounced = useDebounced(s.text, 400);
  useEffect(() => {
    if (store.getState().path || store.getState().draftFrom) void store.getState().validate();
  }, [debounced, store]);
  useEffect(() => {
    if (s.draftFrom) nameInput.current?.focus();
  }, [s.draftFrom]);
  useEffect(() => {
    if (s.confirmOverwrite) keepButton.current?.focus();
  }, [s.confirmOverwrite]);
  const active = s.activeJob ? s.progress[s.activeJob] : undefined;
  const activeInfo = s.activeJob ? s.jobs.find((j) => j.jobId === s.activeJob) : undefined;
  const markers = s.validation && !s.validation.ok ? s.validation.errors.filter((e) => e.location.line).map((e) => ({ line: e.location.line!, message: formatError(e) })) : [];
  const runConfigs = s.configs.filter((c) => c.kind === 'run');
  const open = s.path ?? s.draftFrom;
  const invalid = s.validation !== null && !s.validation.ok;
  const nameError = s.saveAsName === '' ? null : configNameError(s.saveAsName);
  const openEntry = s.path ? s.configs.find((c) => c.path === s.path) : undefined;
  const group = CONFIG_GROUPS.find((g) => g.kind === s.openKind);
  return (
    <section className="screen split-screen" aria-labelledby="launch-title">
      <header className="screen-head"><h1 id="launch-title">Launcher</h1></header>
      <ErrorBox error={s.error} />
      <div className="split">
        <div className="split-list">
          <form className="new-config" aria-label="New config from a template" onSubmit={(e) => { e.preventDefault(); void store.getState().newFromTemplate(); }}>
            <label>New config from
              <select value={s.template ?? ''} onChange={(e) => store.getState().setTemplate(e.target.value)} data-testid="template-select" disabled={runConfigs.length === 0}>
                {runConfigs.map((c) => <option key={c.path} value={c.path}>{c.path}</option>)}
              </select>
            </label>
            <button type="submit" disabled={!s.template || s.busy} data-testid="new-config">New config</button>
          </form>
          {s.configs.length === 0 && <p className="muted empty">No configs found in the configs folder.</p>}
          {CONFIG_GROUPS.map((g, groupIndex) => {
            const items = s.configs.filter((c) => c.kind === g.kind);
            if (items.length === 0) return null;
            return (
              <div key={g.kind} className="config-group" onFocus={() => store.getState().focusGroup(g.kind)}>
                <h3 id={`config-group-${g.kind}`}>{g.title} <span className="muted small">({items.length})</span></h3>
                {g.note && <p className="muted small">{g.note}</p>}
                <KeyList testId={LIST_IDS[g.kind]} label={g.title} items={items} selected={s.activeGroup === g.kind ? s.selected[g.kind] : -1} autoFocus={groupIndex === 0}
                  onSelect={(i) => store.getState().select(g.kind, i)} onOpen={(c) => void store.getState().openConfig(c.path)}
                  itemKey={(c) => c.path}
                  renderItem={(c) => c.kind === 'run' ? (
                    <div className="config-item">
                      <strong>{c.run_name ?? c.path}</strong>{c.distill && <span className="tag" title="stage_b_distillation.enabled: can start as a distill job">distill</span>}
                      <div className="small">{c.mission ?? <span className="muted">no mission</span>}</div>
                      <div className="muted small">{c.path} · {time(c.modified_at)}</div>
                    </div>
                  ) : (
                    <div className="config-item"><strong>{c.path}</strong><div className="muted small">{time(c.modified_at)}</div></div>
                  )} />
              </div>
            );
          })}
          {s.jobs.length > 0 && (
            <div className="jobs"><h3>Jobs</h3>
              <ul data-testid="job-list">{s.jobs.map((j) => (
                <li key={j.jobId} title={`job ${j.jobId}\n${j.configPath}`}>
                  <button className="link" onClick={() => store.setState({ activeJob: j.jobId })} aria-current={s.activeJob === j.jobId ? 'true' : undefined}>{jobTitle(j)}</button>
                  {' '}<span className={`status status-${s.progress[j.jobId]?.status ?? j.status}`}>{s.progress[j.jobId]?.status ?? j.status}</span>
                </li>
              ))}</ul>
            </div>
          )}
        </div>
        <div className="split-detail">
          {!open && <p className="muted">Press Enter on a config to open it, or start a new one from a template.</p>}
          {open && (
            <>
              <h2 data-testid="config-title">
                {s.path ?? `New config from ${s.draftFrom}`}
                {s.path && s.text !== s.savedText ? ' (edited)' : ''}
                {s.openKind !== 'run' && group && <span className="tag">{group.title.replace(/s$/, '')}</span>}
              </h2>
              {openEntry?.kind === 'run' && <p className="muted small">run <strong>{openEntry.run_name ?? '—'}</strong> · mission <strong>{openEntry.mission ?? '—'}</strong></p>}
              <CodeEditor value={s.text} onChange={(t) => store.getState().setText(t)} language="yaml" path={configModelPath(s.path ?? draftModelPath(s.draftFrom ?? 'config.yaml', s.draftSerial))} height={300} markers={markers} testId="config-editor" />
              <div data-testid="config-validation">
                {s.validation?.ok && <p className="ok-text">Config is valid.</p>}
                {s.validation && !s.validation.ok && <ul className="issues">{s.validation.errors.map((e, i) => <li key={i} className="field-error">{formatError(e)}</li>)}</ul>}
              </div>
              {s.path && s.openKind === 'run' && (
                <div className="actions">
                  <label>Kind
                    <select value={s.kind} onChange={(e) => store.getState().setKind(e.target.value as 'stage_b' | 'distill')} data-testid="launch-kind">
                      <option value="stage_b">Stage-B run</option>
                      <option value="distill" disabled={!openEntry?.distill}>distill run + split</option>
                    </select>
                  </label>
                  <button className="primary" disabled={s.busy || invalid} onClick={() => void store.getState().start()} data-testid="launch-start">
                    {s.text !== s.savedText ? 'Save and start' : 'Start'}
                  </button>
                  {invalid && <span className="field-error">fix the errors above to start</span>}
                </div>
              )}
              {s.path && s.openKind !== 'run' && (
                <div className="actions">
                  <button disabled={s.busy || invalid || s.text === s.savedText} onClick={() => void store.getState().save()} data-testid="config-save">Save</button>
                  <span className="muted small">{group?.note}</span>
                </div>
              )}
              <form className="actions save-as" aria-label="Save as a new config" onSubmit={(e) => { e.preventDefault(); void store.getState().saveAs(); }}>
                <label>Save as
                  <input ref={nameInput} value={s.saveAsName} onChange={(e) => store.getState().setSaveAsName(e.target.value)} placeholder="my-run.yaml" spellCheck={false}
                    aria-invalid={nameError ? true : undefined} aria-describedby="save-as-help" data-testid="config-save-name" />
                </label>
                <button type="submit" className={s.draftFrom ? 'primary' : undefined} disabled={s.busy || invalid || s.saveAsName === '' || nameError !== null} data-testid="config-save-as">Save as</button>
                <span id="save-as-help" className={nameError ? 'field-error' : 'muted small'}>
                  {nameError ? `name: ${nameError}` : invalid ? 'fix the errors above to save' : 'a new .yaml file in the configs folder'}
                </span>
              </form>
              {s.confirmOverwrite && (
                <div className="confirm-row" role="alertdialog" aria-label="Overwrite an existing config" data-testid="confirm-overwrite"
                  onKeyDown={(e) => { if (e.key === 'Escape') { e.preventDefault(); store.getState().cancelOverwrite(); nameInput.current?.focus(); } }}>
                  <span><strong>{s.confirmOverwrite}</strong> exists already in the configs folder.</span>
                  <button ref={keepButton} onClick={() => { store.getState().cancelOverwrite(); nameInput.current?.focus(); }} data-testid="confirm-overwrite-no">Keep it, choose another name</button>
                  <button className="danger" onClick={() => void store.getState().saveAs(true)} data-testid="confirm-overwrite-yes">Overwrite {s.confirmOverwrite}</button>
                </div>
              )}
            </>
          )}
          {active && (
            <>
              <h2 className="job-title" data-testid="job-title">{activeInfo ? jobTitle(activeInfo) : 'Job'}</h2>
              <JobProgressView progress={active} onCancel={() => void store.getState().cancel(active.jobId)}
                {...(isPausableKind(s.jobs.find((j) => j.jobId === active.jobId)?.kind) ? { onPause: () => void store.getState().pause(active.jobId), onResume: () => void store.getState().resume(active.jobId) } : {})} />
            </>
          )}
        </div>
      </div>
    </section>
  );
}
