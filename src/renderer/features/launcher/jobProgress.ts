import type { ApiEvent, JobKind, JobStatus } from '../../../shared/api/contract';
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
  /** Where a paused run waits: before batch `batchIndex` (0-based) of `batches` in `epoch`; null unless paused. */
  pausedAt: { epoch: number; batchIndex: number; batches: number } | null;
};

export function newJobProgress(jobId: string): JobProgress {
  return {
    jobId, status: 'starting', phase: null, message: null, epoch: null, epochs: null, batchIndex: null, batches: null,
    groupsDone: 0, groupsTotal: 0, epochGroupsDone: 0, epochGroupsTotal: 0, tokensPerSecond: null, etaMs: null, guidanceStep: null, curve: [], log: [], error: null,
    pausedAt: null,
  };
}

const LOG_LINES = 200;

/** Folds one pushed event into a job's progress; events of other jobs leave it unchanged. */
export function applyJobEvent(progress: JobProgress, event: ApiEvent): JobProgress {
  if (event.jobId !== progress.jobId) return progress;
  if (event.type === 'job_status') {
    return { ...progress, status: event.status, error: event.error ?? progress.error, pausedAt: event.status === 'paused' ? progress.pausedAt : null };
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
    case 'paused':
      // The last message ("sampling with guidance step …") is about the batch that finished.
      return { ...progress, status: 'paused', message: null, pausedAt: { epoch: e.epoch, batchIndex: e.batch_index, batches: e.batches } };
    case 'resumed':
      return { ...progress, status: progress.status === 'paused' ? 'running' : progress.status, pausedAt: null, log: [...progress.log, `resumed after ${Math.round(e.paused_ms / 1000)} s paused`].slice(-LOG_LINES) };
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

/** An engine process is there (working, finishing a batch before a pause, or paused): it can be cancelled. */
export function isLiveJob(status: JobStatus): boolean {
  return status === 'starting' || status === 'running' || status === 'pausing' || status === 'paused';
}

/** Which of Pause / Resume / Cancel apply now. Resume also withdraws a pause the run has not reached yet. */
export function jobControls(p: Pick<JobProgress, 'status'>): { pause: boolean; resume: boolean; cancel: boolean } {
  return {
    pause: p.status === 'running' || p.status === 'starting',
    resume: p.status === 'paused' || p.status === 'pausing',
    cancel: isLiveJob(p.status),
  };
}

/** The pause in words: where the run waits and what Resume does, or that it is on its way there. */
export function pauseStatusText(p: Pick<JobProgress, 'status' | 'pausedAt' | 'epochs'>): string | null {
  if (p.status === 'pausing') return 'Pausing: the batch in flight and its reflection finish first, then the run waits with the model loaded.';
  if (p.status !== 'paused') return null;
  if (!p.pausedAt) return 'Paused at a batch boundary, model loaded.';
  const { epoch, batchIndex, batches } = p.pausedAt;
  const ofEpoch = `epoch ${epoch + 1}/${p.epochs ?? '—'}`;
  const next = `Resume continues with batch ${batchIndex + 1}/${batches}.`;
  if (batchIndex === 0) return `Paused before the first batch of ${ofEpoch}, model loaded. ${next}`;
  return `Paused at batch ${batchIndex}/${batches} of ${ofEpoch}: it and its reflection are done, the model stays loaded. ${next}`;
}

/** Runs pause at batch boundaries; attribution and preview jobs have none. Unknown (not listed yet): a run the launcher started. */
export function isPausableKind(kind: JobKind | undefined): boolean {
  return kind === undefined || kind === 'stage_b' || kind === 'distill';
}

/** The run-control keys of the job progress view, listed in the `?` overlay (ShortcutsOverlay). */
export const JOB_CONTROL_KEYS: Array<[string, string]> = [
  ['p', 'launcher: pause the run at the next batch boundary, or resume it'],
  ['x', 'launcher: cancel the run (running or paused; starting the same config later resumes it)'],
];
