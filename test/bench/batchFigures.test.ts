import { describe, expect, it } from 'vitest';
import { batchFloor, judgeRolloutBatch, mergeSamples, rolloutFigures, type RolloutBatch } from '../../bench/rollout/batchFigures';
import type { PathSettings } from '../../bench/rollout/pathSettings';
import type { ThroughputSample } from '../../bench/rollout/ThroughputMeter';
import { DEFAULT_RATE_TOLERANCE, reportableFraction } from '../../bench/shared/disturbance';

const at2 = (prompt: number, batched: number, single: number): ThroughputSample => ({
  threads: 2,
  promptTokensPerSecond: prompt,
  batchedDecodeTokensPerSecond: batched,
  singleDecodeTokensPerSecond: single,
});
const at1Single = (single: number): ThroughputSample => ({ threads: 1, promptTokensPerSecond: 0, batchedDecodeTokensPerSecond: 0, singleDecodeTokensPerSecond: single });

const optimized: PathSettings = { promptThreads: 2, decodeThreads: 2, decodeMode: 'batched', promptRate: 1450, decodeRate: 201, forced: false };
const naive: PathSettings = { promptThreads: 2, decodeThreads: 1, decodeMode: 'single', promptRate: 1450, decodeRate: 156, forced: false };
const options = { optimized, naive, overlapped: false, rule: { rateTolerance: DEFAULT_RATE_TOLERANCE } };

const steadyRates = [at2(1450, 201, 63)];
const naiveSide = [at2(1450, 201, 63), at1Single(156)];
const pass = (seconds: number, before: ThroughputSample[], after: ThroughputSample[]) => ({ seconds, bracket: { unique: 4000, generated: 3400, before, after } });
// Floor at the steady rates: 4000 / 1450 + 3400 / 201 = 19.7 s.
const steadyBatch: RolloutBatch = {
  optimized: [pass(22.0, steadyRates, steadyRates), pass(21.5, steadyRates, steadyRates)],
  naive: { seconds: 60, before: naiveSide, after: naiveSide },
};

describe('judgeRolloutBatch', () => {
  it('keeps a batch whose three runs saw steady rates and took longer than their floors', () => {
    const judgement = judgeRolloutBatch(steadyBatch, 0, options);
    expect(judgement.disturbed).toBe(false);
    expect(judgement.runs.map((r) => r.label)).toEqual(['batch 1A', 'batch 1B', 'batch 1 naive']);
  });

  it("marks a batch whose batched-decode rate collapsed around pass B (issue #22's batch 3B: 185 → 57 tok/s)", () => {
    const batch: RolloutBatch = { ...steadyBatch, optimized: [steadyBatch.optimized[0], pass(22.3, [at2(1450, 185, 63)], [at2(1450, 57, 60)])] };
    const judgement = judgeRolloutBatch(batch, 2, options);
    expect(judgement.disturbed).toBe(true);
    const passB = judgement.runs[1];
    expect(passB.label).toBe('batch 3B');
    expect(passB.reasons).toContainEqual(expect.objectContaining({ kind: 'rate_change', rate: 'batched decode at 2 thread(s)', before: 185, after: 57 }));
    // The mean rates under-state the host, so the floor (4000 / 1450 + 3400 / 121 = 30.9 s) lies above the 22.3 s it took.
    expect(passB.reasons).toContainEqual(expect.objectContaining({ kind: 'below_floor', seconds: 22.3 }));
    expect(judgement.runs[0].disturbed).toBe(false);
  });

  it('marks a batch that beat its floor with rates steady within the tolerance', () => {
    const batch: RolloutBatch = { ...steadyBatch, optimized: [pass(18.0, steadyRates, steadyRates), steadyBatch.optimized[1]] };
    const judgement = judgeRolloutBatch(batch, 0, options);
    expect(judgement.disturbed).toBe(true);
    expect(judgement.runs[0].reasons).toEqual([{ kind: 'below_floor', seconds: 18.0, floorSeconds: batchFloor(batch.optimized[0].bracket).seconds }]);
  });

  it("judges the naive run on its own thread counts' rates", () => {
    const batch: RolloutBatch = { ...steadyBatch, naive: { seconds: 60, before: naiveSide, after: [at2(1450, 201, 63), at1Single(70)] } };
    const judgement = judgeRolloutBatch(batch, 0, options);
    expect(judgement.runs[2]).toMatchObject({ label: 'batch 1 naive', disturbed: true });
    expect(judgement.runs[2].reasons).toEqual([expect.objectContaining({ rate: 'single decode at 1 thread(s)', before: 156, after: 70 })]);
  });
});

describe('rolloutFigures', () => {
  it('leaves the disturbed batches out, so the floor fraction stays a possible one', () => {
    const fast = { ...steadyBatch, optimized: [pass(18.0, steadyRates, steadyRates), pass(18.0, steadyRates, steadyRates)] } as RolloutBatch;
    const batches = [steadyBatch, fast];
    const all = rolloutFigures(batches, [0, 1], { overlapped: false });
    const kept = rolloutFigures(batches, [0], { overlapped: false });
    expect(kept.batches).toBe(1);
    expect(kept.speedup).toBeCloseTo(60 / ((22.0 + 21.5) / 2), 9);
    expect(reportableFraction(kept.floorFraction)).not.toBeNull();
    expect(kept.floorFraction).toBeCloseTo((2 * batchFloor(steadyBatch.optimized[0].bracket).seconds) / 43.5, 9);
    expect(all.floorFraction).toBeGreaterThan(kept.floorFraction);
  });

  it('takes the larger phase as the floor when prompts overlap decoding', () => {
    const bracket = steadyBatch.optimized[0].bracket;
    const floor = batchFloor(bracket, { overlapped: true });
    expect(floor.seconds).toBeCloseTo(Math.max(4000 / 1450, 3400 / 201), 9);
    expect(batchFloor(bracket).seconds).toBeCloseTo(4000 / 1450 + 3400 / 201, 9);
  });
});

describe('mergeSamples', () => {
  it('joins separate measurements of one thread count', () => {
    expect(mergeSamples([at2(1450, 201, 0)], [at2(0, 0, 63), at1Single(156)])).toEqual([at1Single(156), at2(1450, 201, 63)]);
  });
});
