import { lazy, Suspense, useEffect } from 'react';
import { useStore } from 'zustand';
import { navStore } from '../../app/navStore';
import { StatusLine } from '../../shared/ui/StatusLine';
import type { ChartsStore } from './store';
import { RUN_FILES } from '../../../shared/runFiles';

// uPlot, its stylesheet and the chart specs load with the first chart, never with the shell.
const ChartsGrid = lazy(() => import('./ChartsGrid'));

export function ChartsScreen({ store }: { store: ChartsStore }) {
  const run = useStore(navStore, (s) => s.run);
  const state = useStore(store, (s) => s.state);
  useEffect(() => {
    if (run) void store.getState().load(run);
  }, [run, store]);
  if (!run) return <section className="screen"><h1>Charts</h1><p className="muted empty">Open a run first.</p></section>;
  const data = 'data' in state ? state.data : undefined;
  return (
    <section className="screen" aria-labelledby="charts-title">
      <header className="screen-head">
        <h1 id="charts-title">Charts</h1>
        {data && <span className="muted">rates from {data.source === 'telemetry' ? RUN_FILES.telemetry : data.source === 'selections' ? `${RUN_FILES.selections} (recomputed)` : 'nothing yet'}</span>}
        <button onClick={() => void store.getState().reload()}>Refresh</button>
        <span className="muted small">Hover a chart for the values at a point; the legend shows the last values otherwise.</span>
      </header>
      <StatusLine state={state} empty="No telemetry or selections to chart yet." isEmpty={(d) => d.source === 'none' && d.guidanceSizes.length === 0} />
      {data && !(data.source === 'none' && data.guidanceSizes.length === 0) && (
        <Suspense fallback={<p className="muted small" role="status">Loading charts…</p>}>
          <ChartsGrid data={data} />
        </Suspense>
      )}
    </section>
  );
}
