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

/**
 * One uPlot chart of a ChartSpec, as wide as its container (a ResizeObserver keeps it so).
 * The legend under it shows the values at the cursor, or the last values when the cursor is
 * elsewhere. What uPlot drew is mirrored in data- attributes (tick labels, the canvas position
 * of a lone point) for the tests, which cannot read text off the canvas.
 */
export default function UPlotChart({ spec }: { spec: ChartSpec }) {
  const hostRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const color = palette();
    const n = spec.xLabels.length;
    const xs = Array.from({ length: n }, (_, i) => i);
    const widthOf = () => Math.max(MIN_WIDTH, Math.floor(host.clientWidth));
    const ticks = { x: [] as string[], y: [] as string[] };
    const axis = { stroke: color('--fg'), grid: { stroke: color('--line'), width: 1 }, ticks: { stroke: color('--line'), width: 1, size: 4 }, font: '11px system-ui, sans-serif', labelFont: '12px system-ui, sans-serif' };
    const options: uPlot.Options = {
      width: widthOf(),
      height: HEIGHT,
      scales: {
        x: { time: false, range: () => [-0.5, Math.max(0.5, n - 0.5)] },
        y: { range: () => yRange(spec) },
      },
      axes: [
        {
          ...axis,
          label: spec.xLabel,
          size: 30,
          labelSize: 20,
          splits: () => xTickPositions(n, widthOf() - 80, spec.xLabels.some((l) => l.length > 8) ? 72 : 56),
          values: (_u, splits) => (ticks.x = splits.map((i) => spec.xLabels[i] ?? '')),
        },
        {
          ...axis,
          label: spec.yLabel,
          size: 56,
          values: (_u, splits) => (ticks.y = splits.map((v) => formatTick(spec.unit, v))),
        },
      ],
      series: [
        { label: spec.xLabel, value: (_u, v) => (v === null || v === undefined ? '—' : (spec.xLabels[v] ?? '—')) },
        ...spec.series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: color(s.color),
          width: 2,
          dash: s.dashed ? [6, 4] : undefined,
          spanGaps: false,
          // A line needs two points: draw the points themselves while they are few enough to see.
          points: { show: n <= POINTS_UP_TO, size: 7, width: 2, fill: s.dashed ? color('--line') : color(s.color), stroke: color(s.color) },
          value: (_u, v) => formatValue(spec.unit, v),
        })),
      ],
      cursor: { points: { size: 9 }, drag: { x: false, y: false } },
      legend: { live: true },
      hooks: {
        // Off the plot the legend keeps the last values instead of "--".
        setLegend: [(u) => { if ((u.legend.idx === null || u.legend.idx === undefined) && n > 0) u.setLegend({ idx: n - 1 }); }],
        draw: [
          (u) => {
            host.dataset.xTicks = ticks.x.join('|');
            host.dataset.yTicks = ticks.y.join('|');
            host.dataset.points = spec.series.map((s) => s.values.filter((v) => v !== null).length).join(',');
            const lone = spec.series.flatMap((s) => {
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
    const plot = new uPlot(options, [xs, ...spec.series.map((s) => s.values)] as uPlot.AlignedData, host);
    const resize = new ResizeObserver(() => {
      const width = widthOf();
      if (width !== plot.width) plot.setSize({ width, height: HEIGHT });
    });
    resize.observe(host);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [spec]);
  return <div ref={hostRef} className="uplot-host" data-testid={`chart-${spec.id}-plot`} />;
}
