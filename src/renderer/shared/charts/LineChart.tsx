import { linePath, type ChartPoint } from './linePath';

export type Series = { name: string; points: ChartPoint[]; className: string };

type Props = { title: string; series: Series[]; yMin?: number; yMax?: number; width?: number; height?: number; xLabel?: string; testId?: string };

/** A small inline SVG line chart; a chart library would cost more than it gives here. */
export function LineChart({ title, series, yMin, yMax, width = 420, height = 160, xLabel, testId }: Props) {
  const box = { width, height, pad: 24, yMin, yMax };
  const empty = series.every((s) => s.points.every((p) => p.y === null));
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      {empty ? (
        <p className="muted">No data yet.</p>
      ) : (
        <svg width={width} height={height} role="img" aria-label={title} viewBox={`0 0 ${width} ${height}`}>
          <line x1={box.pad} y1={height - box.pad} x2={width - box.pad} y2={height - box.pad} className="axis" />
          <line x1={box.pad} y1={box.pad} x2={box.pad} y2={height - box.pad} className="axis" />
          {yMax !== undefined && <text x={2} y={box.pad + 4} className="tick">{yMax}</text>}
          {yMin !== undefined && <text x={2} y={height - box.pad} className="tick">{yMin}</text>}
          {xLabel && <text x={width - box.pad} y={height - 6} className="tick" textAnchor="end">{xLabel}</text>}
          {series.map((s) => (
            <path key={s.name} d={linePath(s.points, box)} className={`series ${s.className}`} fill="none" />
          ))}
        </svg>
      )}
      <div className="legend">
        {series.map((s) => (
          <span key={s.name} className={`legend-item ${s.className}`}>{s.name}</span>
        ))}
      </div>
    </figure>
  );
}
