import { batchLabel, type ChartSpec } from '../charts/chartModel';
import type { JobProgress } from './jobProgress';

/**
 * The live chart of a job: label_match and false-release of each finished batch, in run order
 * (epoch, then batch), named as on the Charts screen.
 */
export function jobCurveSpec(curve: JobProgress['curve']): ChartSpec {
  const batches = [...curve].sort((a, b) => a.epoch - b.epoch || a.batch - b.batch);
  return {
    id: 'job-batch',
    title: 'label_match and false-release per batch',
    yLabel: 'rate (%)',
    unit: 'rate',
    xLabel: 'epoch · batch',
    xLabels: batches.map((c) => batchLabel(c.epoch, c.batch)),
    series: [
      { label: 'label_match', color: '--accent', values: batches.map((c) => c.labelMatch) },
      { label: 'false-release', color: '--err', values: batches.map((c) => c.falseRelease) },
    ],
    empty: 'No batch has finished yet.',
  };
}
