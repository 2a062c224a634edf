import type { ChartsOutput } from '../../../shared/api/contract';
import { RUN_FILES } from '../../../shared/runFiles';

/** A colour of the app's palette (src/renderer/styles.css), read when the chart is drawn so it follows the theme. */
export type ChartColor = '--accent' | '--err' | '--ok' | '--warn' | '--muted';

export type ChartSeries = {
  label: string;
  color: ChartColor;
  values: (number | null)[];
  /** Dashed: a "before" series beside its "after". */
  dashed?: boolean;
};

export type ChartUnit = 'rate' | 'rules' | 'tokens/s';

/** One chart: x positions 0..n-1 with a label each (a batch, an epoch, a decision, a step), and its series. */
export type ChartSpec = {
  id: string;
  title: string;
  /** What the y axis measures, with its unit. */
  yLabel: string;
  unit: ChartUnit;
  xLabel: string;
  xLabels: string[];
  series: ChartSeries[];
  /** Shown instead of the chart when there is nothing to draw. */
  empty: string;
};

/** How a batch is named on an x axis, here and on the launcher's live chart. */
export const batchLabel = (epoch: number, batch: number) => `e${epoch}·b${batch}`;

/** Points are drawn where a line alone could hide a value: always up to this many x positions (one point draws nothing as a line). */
export const POINTS_UP_TO = 60;

/** The charts of a run, from the charts API's output. */
export function chartSpecs(data: ChartsOutput): ChartSpec[] {
  const specs: ChartSpec[] = [
    {
      id: 'batch',
      title: 'label_match and false-release per batch',
      yLabel: 'rate (%)',
      unit: 'rate',
      xLabel: 'epoch · batch',
      xLabels: data.batches.map((b) => batchLabel(b.epoch, b.batch_index) + (b.applied ? ' ✓' : '')),
      series: [
        { label: 'label_match', color: '--accent', values: data.batches.map((b) => b.label_match_rate) },
        { label: 'false-release', color: '--err', values: data.batches.map((b) => b.false_release_rate) },
      ],
      empty: 'No batch has finished yet.',
    },
    {
      id: 'epoch',
      title: 'label_match and false-release per epoch',
      yLabel: 'rate (%)',
      unit: 'rate',
      xLabel: 'epoch',
      xLabels: data.epochs.map((e) => `epoch ${e.epoch}`),
      series: [
        { label: 'label_match', color: '--accent', values: data.epochs.map((e) => e.label_match_rate) },
        { label: 'false-release', color: '--err', values: data.epochs.map((e) => e.false_release_rate) },
      ],
      empty: 'No epoch has finished yet.',
    },
    {
      id: 'holdout',
      title: 'Holdout before and with each reflection decision',
      yLabel: 'holdout rate (%)',
      unit: 'rate',
      xLabel: 'decision (epoch · batch, ✓ applied)',
      xLabels: data.holdout.map((d) => batchLabel(d.epoch, d.batch_index) + (d.applied ? ' ✓' : ' ✗')),
      series: [
        { label: 'label_match before', color: '--accent', dashed: true, values: data.holdout.map((d) => d.before.label_match_rate) },
        { label: 'label_match with plan', color: '--accent', values: data.holdout.map((d) => d.after.label_match_rate) },
        { label: 'false-release before', color: '--err', dashed: true, values: data.holdout.map((d) => d.before.false_release_rate) },
        { label: 'false-release with plan', color: '--err', values: data.holdout.map((d) => d.after.false_release_rate) },
      ],
      empty: 'No reflection decision was measured on the holdout yet.',
    },
    {
      id: 'guidance',
      title: 'Guidance size per step',
      yLabel: 'rules',
      unit: 'rules',
      xLabel: 'guidance step',
      xLabels: data.guidanceSizes.map((g) => `step ${g.step}`),
      series: [{ label: 'rules', color: '--ok', values: data.guidanceSizes.map((g) => g.size) }],
      empty: 'No guidance step is recoverable.',
    },
    {
      id: 'throughput',
      title: 'Generation throughput',
      yLabel: 'generated tokens/s',
      unit: 'tokens/s',
      xLabel: 'epoch · batch',
      xLabels: data.throughput.map((t) => batchLabel(t.epoch, t.batch_index)),
      series: [{ label: 'tokens/s (average since the rollout started)', color: '--warn', values: data.throughput.map((t) => t.tokens_per_second) }],
      empty: `No progress event with tokens/s in ${RUN_FILES.events}.`,
    },
  ];
  return specs;
}

/** The value as the axis and legend show it. */
export function formatValue(unit: ChartUnit, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (unit === 'rate') return `${(value * 100).toFixed(1)}%`;
  if (unit === 'rules') return String(Math.round(value));
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** Tick label of a y value: rates as whole percents. */
export function formatTick(unit: ChartUnit, value: number): string {
  if (unit === 'rate') return `${Math.round(value * 100)}%`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** The y range: rates on 0–100 %, counts from 0 to a little above the largest value. */
export function yRange(spec: ChartSpec): [number, number] {
  if (spec.unit === 'rate') return [0, 1];
  const max = Math.max(0, ...spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  if (max === 0) return [0, 1];
  return [0, spec.unit === 'rules' ? Math.ceil(max * 1.2) : max * 1.15];
}

/** Every k-th x position gets a tick label, k chosen so that labels of about `labelPx` pixels fit `widthPx`. */
export function xTickPositions(count: number, widthPx: number, labelPx = 64): number[] {
  if (count <= 0) return [];
  const fit = Math.max(1, Math.floor(widthPx / labelPx));
  const step = Math.max(1, Math.ceil(count / fit));
  const ticks: number[] = [];
  for (let i = 0; i < count; i += step) ticks.push(i);
  return ticks;
}
