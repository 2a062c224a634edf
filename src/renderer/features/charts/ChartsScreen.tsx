import { lazy, Suspense, useEffect, useMemo } from 'react';
import { useStore } from 'zustand';
import { navStore } from '../../app/navStore';
import { StatusLine } from '../../shared/ui/StatusLine';
import { chartSpecs, type ChartSpec } from './chartModel';
import type { ChartsStore } from './store';

// uPlot and its stylesheet load with the first chart, never with the shell.
const UPlotChart = lazy(() => import('./UPlotChart'));

export function ChartsScreen({ store }: { store: ChartsStore }) {
  const run = useStore(navStore, (s) => s.run);
  const state = useStore(store, (s) => s.state);
  useEffect(() => {
    if (run) void store.getState().load(run);
  }, [run, store]);
  const data = 'data' in state ? state.data : undefined;
  const specs = useMemo(() => (data ? chartSpecs(data) : []), [data]);
  if (!run) return <section className="screen"><h1>Charts</h1><p className="muted empty">Open a run first.</p></section>;
  return (
    <section className="screen" aria-labelledby="charts-title">
      <header className="screen-head">
        <h1 id="charts-title">Charts</h1>
        {data && <span className="muted">rates from {data.source === 'telemetry' ? 'telemetry.json' : data.source === 'selections' ? 'selections.jsonl (recomputed)' : 'nothing yet'}</span>}
        <button onClick={() => void store.getState().reload()}>Refresh</button>
        <span className="muted small">Hover a chart for the values at a point; the legend shows the last values otherwise.</span>
      </header>
      <StatusLine state={state} empty="No telemetry or selections to chart yet." isEmpty={(d) => d.source === 'none' && d.guidanceSizes.length === 0} />
      {specs.length > 0 && (
        <div className="uplot-charts">
          {specs.map((spec) => <ChartFigure key={spec.id} spec={spec} />)}
        </div>
      )}
    </section>
  );
}

function ChartFigure({ spec }: { spec: ChartSpec }) {
  const empty = spec.xLabels.length === 0;
  return (
    <figure className="uplot-chart" data-testid={`chart-${spec.id}`}>
      <figcaption><strong>{spec.title}</strong><span className="muted small">{spec.yLabel} by {spec.xLabel}</span></figcaption>
      {empty ? (
        <p className="muted small">{spec.empty}</p>
      ) : (
        <Suspense fallback={<p className="muted small" role="status">Loading chart…</p>}>
          <UPlotChart spec={spec} />
        </Suspense>
      )}
    </figure>
  );
}
