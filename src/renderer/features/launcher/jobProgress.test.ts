import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../../shared/api/contract';
import { applyJobEvent, epochFraction, isPausableKind, jobControls, newJobProgress, overallFraction, pauseStatusText } from './jobProgress';

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

describe('pause and resume in the job progress', () => {
  const status = (value: string) => ({ type: 'job_status', jobId: 'j1', status: value, exit_code: null, error: null }) as ApiEvent;
  it('shows pausing, then where the run waits, then running again; the controls follow', () => {
    let p = applyJobEvent(newJobProgress('j1'), run({ type: 'progress', ts, epoch: 0, epochs: 2, batch_index: 1, batches: 4, groups_done: 8, groups_total: 32, epoch_groups_done: 8, epoch_groups_total: 16, tokens_per_second: 3, eta_ms: 9000 }));
    expect(jobControls(p)).toEqual({ pause: true, resume: false, cancel: true });
    expect(pauseStatusText(p)).toBeNull();
    p = applyJobEvent(p, status('pausing'));
    expect(jobControls(p)).toEqual({ pause: false, resume: true, cancel: true });
    expect(pauseStatusText(p)).toMatch(/batch in flight and its reflection finish first/);
    p = applyJobEvent(p, run({ type: 'paused', ts, epoch: 0, batch_index: 2, batches: 4 }));
    p = applyJobEvent(p, status('paused'));
    expect(p.pausedAt).toEqual({ epoch: 0, batchIndex: 2, batches: 4 });
    expect(jobControls(p)).toEqual({ pause: false, resume: true, cancel: true });
    expect(pauseStatusText(p)).toBe('Paused at batch 2/4 of epoch 1/2: it and its reflection are done, the model stays loaded. Resume continues with batch 3/4.');
    p = applyJobEvent(p, run({ type: 'resumed', ts, epoch: 0, batch_index: 2, paused_ms: 61_000 }));
    expect(p).toMatchObject({ status: 'running', pausedAt: null });
    expect(p.log.at(-1)).toBe('resumed after 61 s paused');
    p = applyJobEvent(p, status('running'));
    expect(pauseStatusText(p)).toBeNull();
    p = applyJobEvent(p, status('cancelled'));
    expect(jobControls(p)).toEqual({ pause: false, resume: false, cancel: false });
  });
  it('says so when a run pauses before the first batch of an epoch', () => {
    const p = applyJobEvent({ ...newJobProgress('j1'), epochs: 2 }, run({ type: 'paused', ts, epoch: 1, batch_index: 0, batches: 4 }));
    expect(pauseStatusText(p)).toBe('Paused before the first batch of epoch 2/2, model loaded. Resume continues with batch 1/4.');
  });
  it('offers pause only to runs', () => {
    expect(['stage_b', 'distill', 'attribution', 'preview', undefined].map((k) => isPausableKind(k as never))).toEqual([true, true, false, false, true]);
  });
});
