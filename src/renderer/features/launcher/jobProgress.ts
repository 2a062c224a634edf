import type { ApiEvent, JobStatus } from '../../../shared/api/contract';
import type { SerializedError } from '../../../shared/errors';
import { warningText } from '../../../shared/schemas/telemetry';

export type JobProgress = {
  jobId: string;
  status: JobStatus;
  phase: string | null;
  message: string | null;
  epoch: number | null;
  epochs: number | null;
  batchIndex: number | null;
  batches: number | null;
  /** Over all epochs. */
  groupsDone: number;
  groupsTotal: number;
  /** This epoch's. */
  epochGroupsDone: number;
  epochGroupsTotal: number;
  tokensPerSecond: number | null;
  etaMs: number | null;
  guidanceStep: number | null;
  curve: Array<{ epoch: number; batch: number; labelMatch: number | null; falseRelease: number | null }>;
  log: string[];
  error: SerializedError | null;
};

export function newJobProgress(jobId: string): JobProgress {
  return {
    jobId, status: 'starting', phase: null, message: null, epoch: null, epochs: null, batchIndex: null, batches: null,
    groupsDone: 0, groupsTotal: 0, epochGroupsDone: 0, epochGroupsTotal: 0, tokensPerSecond: null, etaMs: null, guidanceStep: null, curve: [], log: [], error: null,
  };
}

const LOG_LINES = 200;

/** Folds one pushed event into a job's progress; events of other jobs leave it unchanged. */
export function applyJobEvent(progress: JobProgress, event: ApiEvent): JobProgress {
  if (event.jobId !== progress.jobId) return progress;
  if (event.type === 'job_status') {
    return { ...progress, status: event.status, error: event.error ?? progress.error };
  }
  if (event.type === 'job_log') return { ...progress, log: [...progress.log, event.line].slice(-LOG_LINES) };
  const e = event.event;
  const running: Partial<JobProgress> = progress.status === 'starting' ? { status: 'running' } : {};
  switch (e.type) {
    case 'phase':
      return { ...progress, ...running, phase: e.phase, message: e.message };
    case 'progress':
      return {
        ...progress, ...running, epoch: e.epoch, epochs: e.epochs, batchIndex: e.batch_index, batches: e.batches,
        groupsDone: e.groups_done, groupsTotal: e.groups_total, epochGroupsDone: e.epoch_groups_done, epochGroupsTotal: e.epoch_groups_total, tokensPerSecond: e.tokens_per_second, etaMs: e.eta_ms,
      };
    case 'batch':
      return {
        ...progress, ...running, guidanceStep: e.guidance_step,
        curve: [...progress.curve.filter((p) => !(p.epoch === e.epoch && p.batch === e.batch_index)), { epoch: e.epoch, batch: e.batch_index, labelMatch: e.label_match_rate, falseRelease: e.false_release_rate }],
      };
    case 'guidance':
      return { ...progress, ...running, guidanceStep: e.step, message: e.message };
    case 'warning':
      return { ...progress, log: [...progress.log, `warning ${warningText(e)}`].slice(-LOG_LINES) };
    case 'reflection':
      return { ...progress, log: [...progress.log, `reflection ${e.reflection_id}: ${e.applied ? 'applied' : `not applied (${e.ineligible_reason ?? 'no reason'})`}`].slice(-LOG_LINES) };
    case 'done':
      return { ...progress, status: e.status === 'running' ? progress.status : e.status, phase: 'done', message: e.message };
    case 'error':
      return { ...progress, error: e.error as SerializedError };
    default:
      return progress;
  }
}

/** 0..1 of the whole run: groups done over the groups of all epochs. */
export function overallFraction(p: JobProgress): number | null {
  if (p.status === 'completed') return 1;
  if (p.groupsTotal <= 0) return null;
  return Math.min(1, p.groupsDone / p.groupsTotal);
}

/** 0..1 of the current epoch. */
export function epochFraction(p: JobProgress): number | null {
  if (p.status === 'completed') return 1;
  if (p.epochGroupsTotal <= 0) return null;
  return Math.min(1, p.epochGroupsDone / p.epochGroupsTotal);
}
