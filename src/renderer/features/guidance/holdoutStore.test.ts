import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import type { ApiEvent } from '../../../shared/api/contract';
import type { AttributionResult, HoldoutComparison, PreviewResult } from '../../../shared/schemas/holdoutComparison';
import { newJobProgress } from '../launcher/jobProgress';
import { effectsByRuleId, formatDifference, holdoutJobFraction, readInterval } from './holdoutEffects';
import { createHoldoutStore, previewIsOutdated } from './holdoutStore';

const ref = { runId: 'tiny', mission: 'RRU接地与防水检查' };
const rates = (lm: number, fr: number) => ({ label_match_rate: lm, false_release_rate: fr, labelled: 4, fail_tickets: 2 });
const comparison = (d: number): HoldoutComparison => ({
  baseline: rates(0.5, 0.5), candidate: rates(0.5 + d, 0.5),
  label_match_difference: { estimate: d, lower: d - 0.25, upper: d + 0.25, n: 4 },
  false_release_difference: { estimate: 0, lower: 0, upper: 0, n: 2 },
  uplift_probability: 0.5, changed_tickets: [], bootstrap: { samples: 400, seed: 5 },
});
const header = { schema_version: 1 as const, run_name: 'tiny', mission: ref.mission, experiences_hash: 'h', holdout: { tickets: 4, pass: 2, fail: 2, candidates: 2, fingerprint: 'f' }, created_at: 't' };
const attribution = (step: number): AttributionResult => ({
  kind: 'attribution', ...header, guidance_step: step, rows_with: [],
  rules: [{ key: 'G1', rule_id: 'R-aaaa1111', text: '规则一', comparison: comparison(0.25), rows_without: [] }],
});

function fakeJobs() {
  const started: Array<{ method: string; input: unknown }> = [];
  const results: Record<number, AttributionResult> = {};
  const previews: Record<string, PreviewResult> = {};
  let current = 3;
  const client = {
    attributionResult: async (input: { step?: number }) => {
      const step = input.step ?? current;
      return { current_step: current, steps: Object.keys(results).map(Number).sort((a, b) => a - b), result: results[step] ?? null, stale: false };
    },
    attributionStart: async (input: unknown) => (started.push({ method: 'attributionStart', input }), { jobId: 'job-a' }),
    previewStart: async (input: unknown) => (started.push({ method: 'previewStart', input }), { jobId: 'job-p' }),
    previewResult: async (input: { jobId: string }) => ({ result: previews[input.jobId] ?? null }),
    cancelRun: async (input: unknown) => (started.push({ method: 'cancelRun', input }), { cancelled: true }),
    listJobs: async () => ({ jobs: [] }),
  } as unknown as ApiClient;
  return { client, started, results, previews, setStep: (s: number) => (current = s) };
}

const progress = (jobId: string, batch_index: number, batches: number, done: number, total: number): ApiEvent => ({
  type: 'run_event', jobId,
  event: { type: 'progress', ts: 't', epoch: 0, epochs: 1, batch_index, batches, groups_done: done, groups_total: total, epoch_groups_done: done, epoch_groups_total: total, tokens_per_second: 10, eta_ms: null },
});
const status = (jobId: string, s: 'completed' | 'failed' | 'cancelled'): ApiEvent => ({ type: 'job_status', jobId, status: s, exit_code: s === 'completed' ? 0 : 1, error: null });

describe('holdout store: attribution', () => {
  it('shows the latest step measured when the current step has none, and reads the new result when the job completes', async () => {
    const jobs = fakeJobs();
    jobs.results[1] = attribution(1);
    const store = createHoldoutStore(() => jobs.client);
    await store.getState().load(ref);
    expect(store.getState()).toMatchObject({ currentStep: 3, attribution: { guidance_step: 1 } });
    await store.getState().startAttribution();
    expect(jobs.started).toEqual([{ method: 'attributionStart', input: { ...ref, force: false } }]);
    store.getState().onEvent(progress('job-a', 1, 2, 6, 8));
    store.getState().onEvent(progress('other-job', 1, 2, 4, 4));
    expect(holdoutJobFraction(store.getState().attributionJob!)).toBeCloseTo(0.75);
    expect(store.getState().attributionJob).toMatchObject({ status: 'running', batchIndex: 1, batches: 2 });
    jobs.results[3] = attribution(3);
    store.getState().onEvent(status('job-a', 'completed'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().attribution?.guidance_step).toBe(3);
    expect(effectsByRuleId(store.getState().attribution).get('R-aaaa1111')?.key).toBe('G1');
  });

  it('cancels the running job through cancelRun and shows a failure', async () => {
    const jobs = fakeJobs();
    const store = createHoldoutStore(() => jobs.client);
    await store.getState().load(ref);
    await store.getState().startAttribution();
    await store.getState().cancel('attribution');
    expect(jobs.started.at(-1)).toEqual({ method: 'cancelRun', input: { jobId: 'job-a' } });
    store.getState().onEvent(status('job-a', 'failed'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().attributionError?.message).toMatch(/failed/);
  });
});

describe('holdout store: preview of a draft', () => {
  it('evaluates the draft as a job, reads its result, and says when the draft changed since', async () => {
    const jobs = fakeJobs();
    const store = createHoldoutStore(() => jobs.client);
    await store.getState().load(ref);
    const draft = { G0: '清单', G1: '新草稿' };
    await store.getState().startPreview(draft);
    expect(jobs.started).toEqual([{ method: 'previewStart', input: { ...ref, draft: { experiences: draft } } }]);
    jobs.previews['job-p'] = { kind: 'preview', ...header, guidance_step: 3, preview_id: 'job-p', draft: { experiences: draft }, rows_current: [], rows_draft: [], comparison: comparison(0.25), gate: { apply: false, reason: 'holdout_uplift_uncertain', why: 'P = 0.5 < 0.9' } };
    store.getState().onEvent(progress('job-p', 0, 2, 4, 4));
    store.getState().onEvent(status('job-p', 'completed'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().preview?.gate.reason).toBe('holdout_uplift_uncertain');
    expect(previewIsOutdated(store.getState(), { G1: '新草稿', G0: '清单' })).toBe(false);
    expect(previewIsOutdated(store.getState(), { G0: '清单', G1: '又改了' })).toBe(true);
    store.getState().closePreview();
    expect(store.getState()).toMatchObject({ preview: null, previewJob: null });
  });
});

describe('holdout effect formatting', () => {
  it('writes a difference in points with its interval, and reads the interval', () => {
    expect(formatDifference({ estimate: 0.0625, lower: -0.0625, upper: 0.1875, n: 16 })).toBe('+6.3 pts [−6.3, +18.8]');
    expect(formatDifference({ estimate: 0, lower: 0, upper: 0, n: 4 })).toBe('±0.0 pts [±0.0, ±0.0]');
    expect(formatDifference({ estimate: null, lower: null, upper: null, n: 0 })).toMatch(/n\/a/);
    expect(readInterval({ estimate: 0.2, lower: 0.05, upper: 0.3, n: 8 }, 'up')).toBe('better');
    expect(readInterval({ estimate: 0.2, lower: 0.05, upper: 0.3, n: 8 }, 'down')).toBe('worse');
    expect(readInterval({ estimate: 0.1, lower: -0.1, upper: 0.3, n: 8 }, 'up')).toBe('unclear');
  });
  it('computes job progress from the variant and the tickets within it', () => {
    expect(holdoutJobFraction(newJobProgress('j'))).toBeNull();
    expect(holdoutJobFraction({ ...newJobProgress('j'), status: 'completed' })).toBe(1);
  });
});
