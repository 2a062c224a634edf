import { describe, expect, it } from 'vitest';
import type { ChartsOutput } from '../../../shared/api/contract';
import { chartSpecs, formatTick, formatValue, POINTS_UP_TO, xTickPositions, yRange } from './chartModel';

const ONE_STEP: ChartsOutput = {
  batches: [{ epoch: 0, batch_index: 0, groups: 8, label_match_rate: 0.625, false_release_rate: null, labelled: 8, guidance_step: 0, guidance_size: 3, applied: false }],
  epochs: [],
  guidanceSizes: [{ step: 0, size: 3 }],
  source: 'telemetry',
  holdout: [{ reflection_id: 'r1', epoch: 0, batch_index: 0, applied: true, ineligible_reason: null, guidance_step_before: 0, guidance_step_after: 1, before: { label_match_rate: 0.5, false_release_rate: 0.25, n: 16 }, after: { label_match_rate: 0.75, false_release_rate: 0, n: 16 } }],
  throughput: [],
};

describe('chartSpecs', () => {
  const specs = Object.fromEntries(chartSpecs(ONE_STEP).map((spec) => [spec.id, spec]));

  it('gives a demo run with one guidance step a one-point series, drawn as a point', () => {
    expect(specs.guidance.xLabels).toEqual(['step 0']);
    expect(specs.guidance.series).toEqual([{ label: 'rules', color: '--ok', values: [3] }]);
    expect(specs.guidance.xLabels.length).toBeLessThanOrEqual(POINTS_UP_TO);
  });

  it('keeps a batch without fail tickets as a gap, not a 0', () => {
    expect(specs.batch.series.map((s) => s.values)).toEqual([[0.625], [null]]);
  });

  it('puts the holdout before (dashed) beside the holdout with the plan, per decision', () => {
    expect(specs.holdout.xLabels).toEqual(['e0·b0 ✓']);
    expect(specs.holdout.series.map((s) => [s.label, s.dashed ?? false, s.values[0]])).toEqual([
      ['label_match before', true, 0.5],
      ['label_match with plan', false, 0.75],
      ['false-release before', true, 0.25],
      ['false-release with plan', false, 0],
    ]);
  });

  it('says why a chart is empty', () => {
    expect(specs.throughput.xLabels).toEqual([]);
    expect(specs.throughput.empty).toMatch(/events\.jsonl/);
  });
});

describe('axis helpers', () => {
  it('labels every batch while they fit, every k-th when they do not', () => {
    expect(xTickPositions(3, 600)).toEqual([0, 1, 2]);
    expect(xTickPositions(40, 320, 64)).toEqual([0, 8, 16, 24, 32]);
    expect(xTickPositions(0, 600)).toEqual([]);
  });

  it('scales rates on 0–100 % and counts from 0 to above their largest value', () => {
    expect(yRange({ ...chartSpecs(ONE_STEP)[0] })).toEqual([0, 1]);
    const guidance = chartSpecs(ONE_STEP).find((s) => s.id === 'guidance')!;
    expect(yRange(guidance)).toEqual([0, 4]);
    expect(formatTick('rate', 0.25)).toBe('25%');
    expect(formatValue('rate', 0.625)).toBe('62.5%');
    expect(formatValue('tokens/s', 42.5)).toBe('42.5');
    expect(formatValue('rate', null)).toBe('—');
  });
});
