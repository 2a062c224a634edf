import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RATE_TOLERANCE,
  describeJudgement,
  judgeRun,
  relativeChange,
  repeatUntilUndisturbed,
  reportableFraction,
  summarizeDisturbance,
  type RunObservation,
} from '../../bench/shared/disturbance';

const rule = { rateTolerance: DEFAULT_RATE_TOLERANCE };

// Rates recorded around batches of a full bench:rollout run on a shared 2-core host (issue #22, docs/performance.md).
const steady: RunObservation = {
  label: 'batch 1A',
  before: { 'floor prompt rate': 1398, 'floor decode rate': 201, 'single decode at 2 thread(s)': 201 },
  after: { 'floor prompt rate': 1210, 'floor decode rate': 193, 'single decode at 2 thread(s)': 193 },
  seconds: 19.9,
  floorSeconds: 14.8,
};
const collapsed: RunObservation = {
  label: 'batch 3B',
  before: { 'floor prompt rate': 1450, 'floor decode rate': 185 },
  after: { 'floor prompt rate': 1380, 'floor decode rate': 57 },
  seconds: 40.1,
  floorSeconds: 30.3,
};
const beatsFloor: RunObservation = {
  label: 'batch 3B',
  before: { 'floor prompt rate': 1450, 'floor decode rate': 150 },
  after: { 'floor prompt rate': 1400, 'floor decode rate': 140 },
  seconds: 22.3,
  floorSeconds: 30.3,
};

describe('the disturbance rule', () => {
  it('keeps a steady batch: rates within the tolerance and a time above the floor', () => {
    const judgement = judgeRun(steady, rule);
    expect(judgement).toEqual({ label: 'batch 1A', disturbed: false, reasons: [] });
    expect(describeJudgement(judgement)).toBe('batch 1A: steady');
  });

  it('marks a batch whose rate collapsed between before and after (185 → 57 tok/s)', () => {
    const judgement = judgeRun(collapsed, rule);
    expect(judgement.disturbed).toBe(true);
    expect(judgement.reasons).toHaveLength(1);
    expect(judgement.reasons[0]).toMatchObject({ kind: 'rate_change', rate: 'floor decode rate', before: 185, after: 57 });
    expect(describeJudgement(judgement)).toContain('floor decode rate 185 → 57 (69% > 25%)');
  });

  it('marks a batch that beat its floor even where its rates look steady', () => {
    const judgement = judgeRun(beatsFloor, rule);
    expect(judgement.disturbed).toBe(true);
    expect(judgement.reasons).toEqual([{ kind: 'below_floor', seconds: 22.3, floorSeconds: 30.3 }]);
    expect(describeJudgement(judgement)).toContain('below its floor of 30.3 s');
  });

  it('marks a recovery as much as a collapse, and a rate missing on one side', () => {
    expect(relativeChange(57, 185)).toBeCloseTo(relativeChange(185, 57), 12);
    expect(judgeRun({ ...collapsed, before: collapsed.after, after: collapsed.before }, rule).disturbed).toBe(true);
    const missing = judgeRun({ label: 'x', before: { a: 100, b: 10 }, after: { a: 100 } }, rule);
    expect(missing.reasons).toEqual([{ kind: 'rate_missing', rate: 'b', before: 10, after: undefined }]);
    expect(judgeRun({ label: 'x', before: { a: 100 }, after: { a: 0 } }, rule).disturbed).toBe(true);
  });

  it('takes the tolerance as stated: 24% kept at 25%, marked at 20%', () => {
    const observation = { label: 'x', before: { a: 100 }, after: { a: 76 } };
    expect(judgeRun(observation, { rateTolerance: 0.25 }).disturbed).toBe(false);
    expect(judgeRun(observation, { rateTolerance: 0.2 }).disturbed).toBe(true);
  });
});

describe('summarizeDisturbance', () => {
  const judged = [steady, collapsed, beatsFloor].map((o, i) => ({ ...judgeRun(o, rule), label: `batch ${i + 1}` }));

  it('counts the disturbed and keeps the rest while they are within the bound', () => {
    const summary = summarizeDisturbance(judged, { maxDisturbedFraction: 0.7, what: 'batches' });
    expect(summary.total).toBe(3);
    expect(summary.kept.map((j) => j.label)).toEqual(['batch 1']);
    expect(summary.disturbed.map((j) => j.label)).toEqual(['batch 2', 'batch 3']);
    expect(summary.tooMany).toBe(false);
    expect(summary.reason).toBeNull();
  });

  it('has no result when too many are disturbed, and says why', () => {
    const summary = summarizeDisturbance(judged, { maxDisturbedFraction: 0.5, what: 'batches' });
    expect(summary.tooMany).toBe(true);
    expect(summary.reason).toContain('2 of 3 batches were disturbed, more than the 50% allowed');
  });

  it('has no result when nothing is left, whatever the bound', () => {
    const summary = summarizeDisturbance(judged.slice(1), { maxDisturbedFraction: 1, what: 'batches' });
    expect(summary.tooMany).toBe(true);
    expect(summary.reason).toContain('all 2 batches were disturbed');
  });
});

describe('repeatUntilUndisturbed', () => {
  it('repeats a disturbed run and returns the first steady attempt', async () => {
    const observations = [collapsed, beatsFloor, steady, steady];
    const seen: number[] = [];
    const result = await repeatUntilUndisturbed(async (attempt) => ({ value: attempt, observation: observations[attempt - 1] }), {
      maxAttempts: 4,
      rule,
      onDisturbed: (_, attempt) => seen.push(attempt),
    });
    expect(result.value).toBe(3);
    expect(result.attempts).toBe(3);
    expect(result.judgement.disturbed).toBe(false);
    expect(seen).toEqual([1, 2]);
  });

  it('stops at the bound and returns the last attempt, marked disturbed', async () => {
    let calls = 0;
    const result = await repeatUntilUndisturbed(async () => ({ value: ++calls, observation: collapsed }), { maxAttempts: 2, rule });
    expect(calls).toBe(2);
    expect(result.judgement.disturbed).toBe(true);
  });
});

describe('reportableFraction', () => {
  it('never gives a fraction of a floor above 1', () => {
    expect(reportableFraction(0.873)).toBe(0.873);
    expect(reportableFraction(1)).toBe(1);
    expect(reportableFraction(1.006)).toBeNull();
    expect(reportableFraction(Number.NaN)).toBeNull();
    expect(reportableFraction(0)).toBeNull();
  });
});
