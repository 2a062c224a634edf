import { useEffect } from 'react';
import { useStore } from 'zustand';
import { navStore } from '../../app/navStore';
import { LineChart } from '../../shared/charts/LineChart';
import { StatusLine } from '../../shared/ui/StatusLine';
import type { ChartsStore } from './store';

export function ChartsScreen({ store }: { store: ChartsStore }) {
  const run = useStore(navStore, (s) => s.run);
  const state = useStore(store, (s) => s.state);
  useEffect(() => {
    if (run) void store.getState().load(run);
  }, [run, store]);
  if (!run) return <section className="screen"><h1>Charts</h1><p className="muted empty">Open a run first.</p></section>;
  const data = state.status === 'ready' ? state.data : undefined;
  return (
    <section className="screen" aria-labelledby="charts-title">
      <header className="screen-head">
        <h1 id="charts-title">Charts</h1>
        {data && <span className="muted">source: {data.source}</span>}
        <button onClick={() => void store.getState().reload()}>Refresh</button>
      </header>
      <StatusLine state={state} empty="No telemetry or selections to chart yet." isEmpty={(d) => d.source === 'none'} />
      {data && data.source !== 'none' && (
        <div className="charts">
          <LineChart testId="chart-batch" title="Per batch" xLabel="batch" yMin={0} yMax={1} series={[
            { name: 'label_match', className: 's1', points: data.batches.map((b, i) => ({ x: i, y: b.label_match_rate })) },
            { name: 'false-release', className: 's2', points: data.batches.map((b, i) => ({ x: i, y: b.false_release_rate })) },
          ]} />
          <LineChart testId="chart-epoch" title="Per epoch" xLabel="epoch" yMin={0} yMax={1} series={[
            { name: 'label_match', className: 's1', points: data.epochs.map((e) => ({ x: e.epoch, y: e.label_match_rate })) },
            { name: 'false-release', className: 's2', points: data.epochs.map((e) => ({ x: e.epoch, y: e.false_release_rate })) },
          ]} />
          <LineChart testId="chart-guidance" title="Guidance size per step (rules)" xLabel="step" yMin={0} series={[
            { name: 'rules', className: 's3', points: data.guidanceSizes.map((g) => ({ x: g.step, y: g.size })) },
          ]} />
        </div>
      )}
    </section>
  );
}
