import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './charts.css';
import { formatTick, formatValue, POINTS_UP_TO, xTickPositions, yRange, type ChartColor, type ChartSpec } from './chartModel';

const HEIGHT = 240;
const MIN_WIDTH = 240;

/** The app's palette as the stylesheet defines it now (light or dark), so canvas colours match the page. */
function palette(): (name: ChartColor | '--fg' | '--line') => string {
  const css = getComputedStyle(document.documentElement);
  return (name) => css.getPropertyValue(name).trim() || '#888';
}

/** What the plot is built from, apart from its values: when only values change, the plot keeps its DOM, size and cursor. */
function shapeOf(spec: ChartSpec, height: number): string {
  return JSON.stringify([spec.id, spec.unit, spec.xLabel, spec.yLabel, height, spec.series.map((s) => [s.label, s.color, s.dashed ?? false])]);
}

const dataOf = (spec: ChartSpec): uPlot.AlignedData => [spec.xLabels.map((_, i) => i), ...spec.series.map((s) => s.values)] as uPlot.AlignedData;

/**
 * One uPlot chart of a ChartSpec, as wide as its container (a ResizeObserver keeps it so).
 * The legend under it shows the values at the cursor, or the last values when the cursor is
 * elsewhere. A spec with new values and the same series (a live run's next batch) updates the
 * plot in place. What uPlot drew is mirrored in data- attributes (tick labels, the canvas
 * position of a lone point) for the tests, which cannot read text off the canvas.
 */
export default function UPlotChart({ spec, height = HEIGHT }: { spec: ChartSpec; height?: number }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  // The plot's callbacks read the spec now shown, so values can change without a rebuild.
  const specRef = useRef(spec);
  specRef.current = spec;
  const shape = shapeOf(spec, height);
  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const color = palette();
    const current = () => specRef.current;
    const count = () => current().xLabels.length;
    const built = current();
    const widthOf = () => Math.max(MIN_WIDTH, Math.floor(host.clientWidth));
    const ticks = { x: [] as string[], y: [] as string[] };
    const axis = { stroke: color('--fg'), grid: { stroke: color('--line'), width: 1 }, ticks: { stroke: color('--line'), width: 1, size: 4 }, font: '11px system-ui, sans-serif', labelFont: '12px system-ui, sans-serif' };
    const options: uPlot.Options = {
      width: widthOf(),
      height,
      scales: {
        x: { time: false, range: () => [-0.5, Math.max(0.5, count() - 0.5)] },
        y: { range: () => yRange(current()) },
      },
      axes: [
        {
          ...axis,
          label: built.xLabel,
          size: 30,
          labelSize: 20,
          splits: () => xTickPositions(count(), widthOf() - 80, current().xLabels.some((l) => l.length > 8) ? 72 : 56),
          values: (_u, splits) => (ticks.x = splits.map((i) => current().xLabels[i] ?? '')),
        },
        {
          ...axis,
          label: built.yLabel,
          size: 56,
          values: (_u, splits) => (ticks.y = splits.map((v) => formatTick(built.unit, v))),
        },
      ],
      series: [
        { label: built.xLabel, value: (_u, v) => (v === null || v === undefined ? '—' : (current().xLabels[v] ?? '—')) },
        ...built.series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: color(s.color),
          width: 2,
          dash: s.dashed ? [6, 4] : undefined,
          spanGaps: false,
          // A line needs two points: draw the points themselves while they are few enough to see.
          points: { show: () => count() <= POINTS_UP_TO, size: 7, width: 2, fill: s.dashed ? color('--line') : color(s.color), stroke: color(s.color) },
          value: (_u, v) => formatValue(built.unit, v),
        })),
      ],
      cursor: { points: { size: 9 }, drag: { x: false, y: false } },
      legend: { live: true },
      hooks: {
        // Off the plot the legend keeps the last values instead of "--".
        setLegend: [(u) => { if ((u.legend.idx === null || u.legend.idx === undefined) && count() > 0) u.setLegend({ idx: count() - 1 }); }],
        draw: [
          (u) => {
            const shown = current();
            host.dataset.xTicks = ticks.x.join('|');
            host.dataset.yTicks = ticks.y.join('|');
            host.dataset.points = shown.series.map((s) => s.values.filter((v) => v !== null).length).join(',');
            const lone = shown.series.flatMap((s) => {
              const present = s.values.flatMap((v, i) => (v === null ? [] : [[i, v] as const]));
              if (present.length !== 1) return [];
              const [i, v] = present[0];
              return [`${Math.round(u.valToPos(i, 'x', true))},${Math.round(u.valToPos(v, 'y', true))}`];
            });
            host.dataset.lonePoints = lone.join(';');
          },
        ],
      },
    };
    const plot = new uPlot(options, dataOf(built), host);
    plotRef.current = plot;
    const resize = new ResizeObserver(() => {
      const width = widthOf();
      if (width !== plot.width) plot.setSize({ width, height });
    });
    resize.observe(host);
    return () => {
      resize.disconnect();
      plot.destroy();
      plotRef.current = null;
    };
    // The shape stands for everything the plot is built from; values follow in the effect below.
  }, [shape]);
  useEffect(() => {
    const plot = plotRef.current;
    if (!plot) return;
    plot.setData(dataOf(spec));
    // The cursor may be elsewhere: the legend then shows the newest values.
    if ((plot.cursor.idx === null || plot.cursor.idx === undefined) && spec.xLabels.length > 0) plot.setLegend({ idx: spec.xLabels.length - 1 });
  }, [spec]);
  return <div ref={hostRef} className="uplot-host" data-testid={`chart-${spec.id}-plot`} />;
}
