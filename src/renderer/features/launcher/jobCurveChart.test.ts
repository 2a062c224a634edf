import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../../shared/api/contract';
import { applyJobEvent, newJobProgress } from './jobProgress';
import { jobCurveSpec } from './jobCurveChart';

const batchEvent = (epoch: number, batch: number, labelMatch: number | null, falseRelease: number | null): ApiEvent => ({
  type: 'run_event' as const,
  jobId: 'j1',
  event: { type: 'batch' as const, ts: '2025-03-01T08:00:00.000Z', epoch, batch_index: batch, guidance_step: 0, label_match_rate: labelMatch, false_release_rate: falseRelease },
});

describe('jobCurveSpec', () => {
  it('has no x position before the first batch, so the launcher shows its empty text', () => {
    const spec = jobCurveSpec([]);
    expect(spec.xLabels).toEqual([]);
    expect(spec.series.map((s) => s.values)).toEqual([[], []]);
    expect(spec.empty).toMatch(/No batch/);
  });

  it('charts the first batch as one x position with a value in each series', () => {
    const spec = jobCurveSpec([{ epoch: 0, batch: 0, labelMatch: 0.5, falseRelease: 0.25 }]);
    expect(spec.unit).toBe('rate');
    expect(spec.xLabels).toEqual(['e0·b0']);
    expect(spec.series.map((s) => [s.label, s.values])).toEqual([['label_match', [0.5]], ['false-release', [0.25]]]);
  });

  it('orders batches by epoch then batch, whatever order they finished in, and keeps a missing rate as a gap', () => {
    const spec = jobCurveSpec([
      { epoch: 1, batch: 0, labelMatch: 0.9, falseRelease: 0 },
      { epoch: 0, batch: 1, labelMatch: 0.7, falseRelease: null },
      { epoch: 0, batch: 0, labelMatch: 0.6, falseRelease: 0.1 },
    ]);
    expect(spec.xLabels).toEqual(['e0·b0', 'e0·b1', 'e1·b0']);
    expect(spec.series[0].values).toEqual([0.6, 0.7, 0.9]);
    expect(spec.series[1].values).toEqual([0.1, null, 0]);
  });

  it('charts a batch that was reported again (a resumed run) once, with its newest rates', () => {
    const events = [batchEvent(0, 0, 0.5, 0.2), batchEvent(0, 1, 0.6, 0.1), batchEvent(0, 1, 0.75, 0)];
    const progress = events.reduce((p, e) => applyJobEvent(p, e), newJobProgress('j1'));
    const spec = jobCurveSpec(progress.curve);
    expect(spec.xLabels).toEqual(['e0·b0', 'e0·b1']);
    expect(spec.series.map((s) => s.values)).toEqual([[0.5, 0.75], [0.2, 0]]);
  });
});
