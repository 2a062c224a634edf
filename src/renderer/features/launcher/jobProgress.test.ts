import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../../shared/api/contract';
import { applyJobEvent, epochFraction, newJobProgress, overallFraction } from './jobProgress';

const ts = '2026-01-01T00:00:00Z';
const run = (event: unknown) => ({ type: 'run_event', jobId: 'j1', event }) as ApiEvent;

describe('applyJobEvent', () => {
  it('tracks phases, progress, the label_match curve and the end state', () => {
    let p = newJobProgress('j1');
    p = applyJobEvent(p, run({ type: 'phase', ts, phase: 'rollout', message: 'rolling out' }));
    expect(p).toMatchObject({ status: 'running', phase: 'rollout' });
    // Second of two epochs of 10 groups each, half of it done: 15 of 20 overall, 5 of 10 this epoch.
    p = applyJobEvent(p, run({ type: 'progress', ts, epoch: 1, epochs: 2, batch_index: 0, batches: 4, groups_done: 15, groups_total: 20, epoch_groups_done: 5, epoch_groups_total: 10, tokens_per_second: 42, eta_ms: 1000 }));
    expect(overallFraction(p)).toBeCloseTo(0.75);
    expect(epochFraction(p)).toBeCloseTo(0.5);
    p = applyJobEvent(p, run({ type: 'batch', ts, epoch: 1, batch_index: 0, label_match_rate: 0.5, false_release_rate: 0.1, guidance_step: 2 }));
    p = applyJobEvent(p, run({ type: 'batch', ts, epoch: 1, batch_index: 0, label_match_rate: 0.6, false_release_rate: 0.1, guidance_step: 2 }));
    expect(p.curve).toEqual([{ epoch: 1, batch: 0, labelMatch: 0.6, falseRelease: 0.1 }]);
    p = applyJobEvent(p, run({ type: 'done', ts, status: 'completed', message: 'ok' }));
    expect(p.status).toBe('completed');
    expect(overallFraction(p)).toBe(1);
  });
  it("logs a warning with its batch's reflection reason when it has one", () => {
    let p = newJobProgress('j1');
    p = applyJobEvent(p, run({ type: 'warning', ts, group_id: 'G1', code: 'low_self_consistency', message: 'vote 1/1', guidance_step: 0, ineligible_reason: 'non_conflict_bundle' }));
    p = applyJobEvent(p, run({ type: 'warning', ts, group_id: 'G2', code: 'malformed_output', message: 'candidate 0', guidance_step: 0, ineligible_reason: null }));
    expect(p.log.slice(-2)).toEqual(['warning low_self_consistency: vote 1/1 (reflection: non_conflict_bundle)', 'warning malformed_output: candidate 0']);
  });
  it('ignores other jobs and keeps the failure error', () => {
    const p = newJobProgress('j1');
    expect(applyJobEvent(p, { type: 'job_log', jobId: 'other', line: 'x' })).toBe(p);
    const failed = applyJobEvent(p, { type: 'job_status', jobId: 'j1', status: 'failed', exit_code: 1, error: { code: 'MODEL_NOT_FOUND', message: 'no model', location: { file: 'm.gguf' } } });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'MODEL_NOT_FOUND' } });
  });
});
