import { useEffect, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { CompareOutput, RunRef, RunStepInfo, RunSummary } from '../../../shared/api/contract';
import type { ChangedGroup, SliceRow } from '../../../shared/metrics/compareBreakdown';
import type { ComparisonRow, MetricComparison, RateEstimate } from '../../../shared/metrics/compareRuns';
import { diffExcludesZero, formatDiff, formatRate } from '../../../shared/metrics/formatComparison';
import { navStore } from '../../app/navStore';
import { pct } from '../../shared/format';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { KeyList } from '../../shared/ui/KeyList';
import { StatusLine } from '../../shared/ui/StatusLine';
import { compareStores, pickName, samePick, type ComparePick, type CompareStores } from './store';
import './compare.css';

const refOf = (run: RunSummary): RunRef => ({ runId: run.runId, mission: run.mission });

export function CompareScreen({ stores = compareStores() }: { stores?: CompareStores }) {
  const { mode, a, b, stepsRun } = useStore(stores.picks);
  const runsState = useStore(stores.runs, (s) => s.state);
  const result = useStore(stores.result, (s) => s.state);
  useEffect(() => void stores.runs.getState().load(undefined), [stores]);
  const runs = 'data' in runsState && runsState.data ? runsState.data : [];
  const data = 'data' in result ? result.data : undefined;
  // Only the comparison of the current picks: a stale one is never shown under new labels.
  const current = data && a && b && samePick(data.sides.a, a) && samePick(data.sides.b, b) ? data : undefined;

  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const picks = stores.picks.getState();
    if (event.key === 't') picks.setMode(picks.mode === 'runs' ? 'steps' : 'runs');
    else if (event.key === 'w') picks.swap();
    else if (event.key === 'x') picks.clear();
    else return;
    event.preventDefault();
  };

  return (
    <section className="screen compare-screen" aria-labelledby="compare-title" onKeyDown={onKeyDown}>
      <header className="screen-head">
        <h1 id="compare-title">Compare</h1>
        <div role="radiogroup" aria-label="What to compare" className="compare-mode">
          <button role="radio" aria-checked={mode === 'runs'} className={mode === 'runs' ? 'primary' : undefined} onClick={() => stores.picks.getState().setMode('runs')} data-testid="compare-mode-runs">Two runs</button>
          <button role="radio" aria-checked={mode === 'steps'} className={mode === 'steps' ? 'primary' : undefined} onClick={() => stores.picks.getState().setMode('steps')} data-testid="compare-mode-steps">Two guidance steps of one run</button>
        </div>
        <span className="muted small"><kbd>t</kbd> switch · <kbd>Enter</kbd> pick A, then B · <kbd>a</kbd>/<kbd>b</kbd> set A/B · <kbd>w</kbd> swap · <kbd>x</kbd> clear</span>
      </header>

      <div className="compare-picks" data-testid="compare-picks">
        <PickLabel side="A" pick={a} />
        <PickLabel side="B" pick={b} />
      </div>

      <div className="compare-pickers">
        <div className="compare-picker">
          <h2>{mode === 'runs' ? 'Runs' : 'Run'}</h2>
          <StatusLine state={runsState} empty="No runs found under the runs folder." isEmpty={(d) => d.length === 0} />
          {runs.length > 0 && (
            <RunPicker key={mode} runs={runs} a={a} b={b} stepsRun={stepsRun} autoFocus={!current}
              onEnter={(run) => (mode === 'runs' ? stores.picks.getState().pickNext({ ...refOf(run), step: null }) : stores.picks.getState().openSteps(refOf(run)))}
              onMark={(side, run) => stores.picks.getState().mark(side, { ...refOf(run), step: null })} showMarks={mode === 'runs'} />
          )}
        </div>
        {mode === 'steps' && <StepPicker stores={stores} />}
      </div>

      {a && b && <StatusLine state={result} empty="" />}
      {current && <CompareResult data={current} />}
      {!current && !(a && b) && <p className="muted empty">Pick A and B. From the runs screen: <kbd>a</kbd> on one run, <kbd>b</kbd> on another, <kbd>c</kbd> to compare.</p>}
    </section>
  );
}

function PickLabel({ side, pick }: { side: 'A' | 'B'; pick: ComparePick | null }) {
  return (
    <div className={`compare-pick side-${side.toLowerCase()}`} data-testid={`compare-pick-${side.toLowerCase()}`}>
      <span className="side-badge">{side}</span>
      {pick ? <span>{pickName(pick)}</span> : <span className="muted">not picked</span>}
    </div>
  );
}

function RunPicker({ runs, a, b, stepsRun, onEnter, onMark, showMarks, autoFocus }: {
  runs: RunSummary[]; a: ComparePick | null; b: ComparePick | null; stepsRun: RunRef | null; showMarks: boolean; autoFocus: boolean;
  onEnter(run: RunSummary): void; onMark(side: 'a' | 'b', run: RunSummary): void;
}) {
  const [selected, setSelected] = useState(0);
  const is = (pick: ComparePick | null, run: RunSummary) => pick !== null && pick.step === null && pick.runId === run.runId && pick.mission === run.mission;
  return (
    <KeyList<RunSummary> testId="compare-runs" label="Runs to compare" items={runs} selected={Math.min(selected, runs.length - 1)} autoFocus={autoFocus}
      onSelect={setSelected} onOpen={onEnter} itemKey={(run) => `${run.runId}/${run.mission}`}
      onKey={(key, run) => {
        if (!showMarks || (key !== 'a' && key !== 'b')) return false;
        onMark(key, run);
        return true;
      }}
      renderItem={(run) => (
        <div className="compare-run-row">
          <span className="compare-run-name"><strong>{run.runId}</strong> / {run.mission}</span>
          <span className="muted small">{pct(run.label_match_rate)} match · {pct(run.false_release_rate)} FR</span>
          <span>
            {showMarks && is(a, run) && <span className="side-badge">A</span>}
            {showMarks && is(b, run) && <span className="side-badge">B</span>}
            {!showMarks && stepsRun?.runId === run.runId && stepsRun.mission === run.mission && <span className="tag">steps →</span>}
          </span>
        </div>
      )} />
  );
}

function StepPicker({ stores }: { stores: CompareStores }) {
  const { a, b, stepsRun } = useStore(stores.picks);
  const state = useStore(stores.steps, (s) => s.state);
  const [selected, setSelected] = useState(0);
  if (!stepsRun) return <div className="compare-picker"><h2>Guidance steps</h2><p className="muted">Enter on a run lists the guidance steps it sampled with.</p></div>;
  const steps = state.status === 'ready' ? state.data : [];
  const pick = (step: RunStepInfo): ComparePick => ({ ...stepsRun, step: step.step });
  return (
    <div className="compare-picker">
      <h2>Guidance steps of {stepsRun.runId}</h2>
      <StatusLine state={state} empty="This run has no selections yet." isEmpty={(d) => d.length === 0} />
      {steps.length > 0 && (
        <KeyList<RunStepInfo> testId="compare-steps" label="Guidance steps" items={steps} selected={Math.min(selected, steps.length - 1)}
          onSelect={setSelected} onOpen={(step) => stores.picks.getState().pickNext(pick(step))} itemKey={(step) => String(step.step)}
          onKey={(key, step) => {
            if (key !== 'a' && key !== 'b') return false;
            stores.picks.getState().mark(key, pick(step));
            return true;
          }}
          renderItem={(step) => (
            <div className="compare-run-row">
              <span><strong>step {step.step}</strong></span>
              <span className="muted small">{step.groups} groups · epoch {step.epochs.join(', ')}</span>
              <span>
                {samePick(a, pick(step)) && <span className="side-badge">A</span>}
                {samePick(b, pick(step)) && <span className="side-badge">B</span>}
              </span>
            </div>
          )} />
      )}
    </div>
  );
}

function CompareResult({ data }: { data: CompareOutput }) {
  const missions = Object.entries(data.comparison.missions);
  return (
    <div className="compare-result" data-testid="compare-result">
      {data.mission_mismatch && (
        <div className="banner warn" role="alert" data-testid="compare-mission-warning">
          <span>⚠ Different missions: A is <strong>{data.mission_mismatch.a}</strong>, B is <strong>{data.mission_mismatch.b}</strong>. The rates are of different tickets under different rules; read B − A as two separate measurements, not as a change.</span>
        </div>
      )}
      <p className="compare-note" data-testid="compare-note">{data.note}</p>
      <h2>label_match and false-release</h2>
      <p className="muted small">95% Wilson intervals; B − A in percentage points with a 95% Newcombe interval (* = excludes 0) — the numbers of <code>stageb compare</code>.</p>
      <table className="compare-table" data-testid="compare-rates">
        {RATE_HEAD}
        <tbody>
          <RateRows scope="overall" row={data.comparison.overall} />
          {missions.length > 1 && missions.map(([mission, row]) => <RateRows key={mission} scope={mission} row={row} />)}
          {data.common.groups > 0 && <RateRows scope={`judged by both (${data.common.groups})`} row={data.common.row} />}
        </tbody>
      </table>
      <ChangedGroups data={data} />
      <Slices slices={data.slices} error={data.slices_error} />
    </div>
  );
}

function RateRows({ scope, row, head }: { scope: string; row: ComparisonRow; head?: ReactNode }) {
  const line = (metric: 'label_match' | 'false_release', m: MetricComparison, first: boolean) => (
    <tr data-scope={scope} data-metric={metric} className={first ? 'first' : undefined}>
      {first && <td rowSpan={2} className="scope">{head ?? scope}<div className="muted small">{row.groups.a} / {row.groups.b} groups</div></td>}
      <td>{metric === 'label_match' ? 'label_match' : 'false-release'}</td>
      <td className="num" data-cell="a">{formatRate(m.a)}</td>
      <td className="num" data-cell="b">{formatRate(m.b)}</td>
      <td className={`num${diffExcludesZero(m) ? ' significant' : ''}`} data-cell="diff">{formatDiff(m)}</td>
      <td><IntervalBars a={m.a} b={m.b} /></td>
    </tr>
  );
  return (
    <>
      {line('label_match', row.label_match, true)}
      {line('false_release', row.false_release, false)}
    </>
  );
}

const RATE_HEAD = <thead><tr><th>scope</th><th>metric</th><th>A</th><th>B</th><th>B − A</th><th>interval (0–100%)</th></tr></thead>;

/** A and B on one 0–100% scale: the interval as a bar, the estimate as a tick. */
function IntervalBars({ a, b }: { a: RateEstimate; b: RateEstimate }) {
  const bar = (r: RateEstimate, side: 'a' | 'b') =>
    r.rate === null || !r.ci ? null : (
      <div className={`ci-bar side-${side}`} style={{ left: `${r.ci.lower * 100}%`, width: `${Math.max(0.5, (r.ci.upper - r.ci.lower) * 100)}%` }}>
        <span className="ci-tick" style={{ left: `${((r.rate - r.ci.lower) / Math.max(1e-9, r.ci.upper - r.ci.lower)) * 100}%` }} />
      </div>
    );
  return (
    <div className="ci-track" aria-hidden="true">
      {bar(a, 'a')}
      {bar(b, 'b')}
    </div>
  );
}

const CHANGE_TEXT: Record<ChangedGroup['change'], string> = { broken: 'lost match', fixed: 'now matches', changed: 'changed' };

function ChangedGroups({ data }: { data: CompareOutput }) {
  const [selected, setSelected] = useState(0);
  const rows = data.changed.rows;
  const open = (row: ChangedGroup, side: ComparePick) => {
    const nav = navStore.getState();
    if (nav.run?.runId !== side.runId || nav.run.mission !== side.mission) nav.selectRun({ runId: side.runId, mission: side.mission }, 'compare');
    nav.openGroup(row.group_id);
  };
  return (
    <>
      <h2>Groups whose verdict changed <span className="muted small" data-testid="compare-changed-total">{data.changed.total} of {data.common.groups} judged by both</span></h2>
      {rows.length === 0 ? (
        <p className="muted">{data.common.groups === 0 ? 'No group was judged by both sides.' : 'No verdict changed.'}</p>
      ) : (
        <>
          <p className="muted small"><kbd>Enter</kbd> opens the group in B ({data.sides.b.runId}), <kbd>o</kbd> in A ({data.sides.a.runId}).</p>
          <div className="list-head changed-grid"><span>group</span><span>label</span><span>A</span><span>B</span><span>change</span><span>Stage-A categories</span></div>
          <KeyList<ChangedGroup> testId="compare-changed" label="Groups whose verdict changed" items={rows} selected={Math.min(selected, rows.length - 1)}
            onSelect={setSelected} onOpen={(row) => open(row, data.sides.b)} itemKey={(row) => `${row.mission}/${row.ticket_key}`}
            onKey={(key, row) => {
              if (key !== 'o') return false;
              open(row, data.sides.a);
              return true;
            }}
            renderItem={(row) => (
              <div className="changed-grid">
                <span className="group-id" title={row.group_id}>{row.group_id}</span>
                <span><Verdict value={row.label} /></span>
                <span><Verdict value={row.a.verdict} /> <span className="muted small">e{row.a.epoch} s{row.a.guidance_step}</span></span>
                <span><Verdict value={row.b.verdict} /> <span className="muted small">e{row.b.epoch} s{row.b.guidance_step}</span></span>
                <span className={`tag change-${row.change}`}>{row.new_false_release ? 'new false release' : CHANGE_TEXT[row.change]}</span>
                <span className="small categories">{row.categories.join('、') || '—'}</span>
              </div>
            )} />
          {data.changed.total > rows.length && <p className="muted small">First {rows.length} of {data.changed.total} shown.</p>}
        </>
      )}
    </>
  );
}

function Verdict({ value }: { value: 'pass' | 'fail' | null }) {
  return <span className={`tag label-${value ?? 'none'}`}>{value ?? 'none'}</span>;
}

function Slices({ slices, error }: { slices: SliceRow[]; error: CompareOutput['slices_error'] }) {
  return (
    <>
      <h2>By slice</h2>
      <ErrorBox error={error} title="Stage-A categories unavailable (the run's Stage-A input could not be read); label slices only" />
      <p className="muted small">A ticket counts in every Stage-A category its photos show. Each side's rates are over its own groups of the slice; "changed" counts the slice's groups judged by both whose verdict changed.</p>
      <table className="compare-table slices" data-testid="compare-slices">
        {RATE_HEAD}
        <tbody>
          {slices.map((s) => (
            <RateRows key={`${s.kind}/${s.slice}`} scope={`${s.kind}:${s.slice}`} row={s.row}
              head={<><span className="muted small">{s.kind === 'label' ? 'label' : 'Stage-A'}</span> {s.slice}<div className="small">changed {s.changed} of {s.common}</div></>} />
          ))}
        </tbody>
      </table>
    </>
  );
}
