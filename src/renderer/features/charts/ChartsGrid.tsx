import { useMemo } from 'react';
import type { ChartsOutput } from '../../../shared/api/contract';
import { chartSpecs, type ChartSpec } from './chartModel';
import UPlotChart from './UPlotChart';

/** Every chart of a run; loaded with uPlot, after the shell. */
export default function ChartsGrid({ data }: { data: ChartsOutput }) {
  const specs = useMemo(() => chartSpecs(data), [data]);
  return (
    <div className="uplot-charts">
      {specs.map((spec) => <ChartFigure key={spec.id} spec={spec} />)}
    </div>
  );
}

function ChartFigure({ spec }: { spec: ChartSpec }) {
  return (
    <figure className="uplot-chart" data-testid={`chart-${spec.id}`}>
      <figcaption><strong>{spec.title}</strong><span className="muted small">{spec.yLabel} by {spec.xLabel}</span></figcaption>
      {spec.xLabels.length === 0 ? <p className="muted small">{spec.empty}</p> : <UPlotChart spec={spec} />}
    </figure>
  );
}
