import { randomUUID } from 'node:crypto';
import { StageBError, type SerializedError } from '../../shared/errors';
import type { JobInfo, JobKind, JobStatus, RunRef } from '../../shared/api/contract';
import { RunEventSchema, type RunControlMessage } from '../../shared/schemas/telemetry';
import type { EventHub } from './EventHub';

/** A running engine host, however it was started (Node child process or Electron utilityProcess). */
export type EngineProcess = {
  onStdoutLine(listener: (line: string) => void): void;
  onStderrLine(listener: (line: string) => void): void;
  /** Fires once; `error` when the process could not start at all. */
  onExit(listener: (exit: { code: number | null; signal: string | null; error?: Error }) => void): void;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
  /**
   * Pause / resume, as the engine's control channel carries it (stdin lines of a Node child,
   * parentPort messages of a utilityProcess): no signal, so Windows is no different. false
   * when it could not be delivered (the process is gone or its channel closed).
   */
  send(control: RunControlMessage): boolean;
};

/**
 * What an engine host is started for. configPath is the config file of a stage_b /
 * distill job and the run directory an attribution / preview job measures; extraArgs
 * are appended to the engine's argv (engineArgs).
 */
export type EngineLaunch = { jobId: string; kind: JobKind; configPath: string; extraArgs?: string[] };

export type JobStartOptions = {
  /** attribution / preview: the run measured, shown in listJobs. */
  run?: RunRef;
  extraArgs?: string[];
  /** A caller-chosen id (a preview names its files after its job); a fresh UUID otherwise. */
  jobId?: string;
};
export type EngineLauncher = (launch: EngineLaunch) => EngineProcess;

const MAX_LOG_LINE = 2000;
/** The kinds whose engine runs the Stage-B batch loop, the only one with batch boundaries to pause at. */
const PAUSABLE_KINDS: ReadonlySet<JobKind> = new Set(['stage_b', 'distill']);
/** An engine process is there and working (or waiting at a boundary): it can be cancelled. */
const LIVE_STATUSES: ReadonlySet<JobStatus> = new Set(['starting', 'running', 'pausing', 'paused']);
const MAX_JOBS_KEPT = 50;

type Job = { info: JobInfo; process: EngineProcess; cancelRequested: boolean; killTimer: NodeJS.Timeout | null };

/**
 * Starts engine hosts, turns their stdout (one RunEvent JSON per line, from
 * `--events-json`) into pushed events, and keeps the window alive whatever the
 * engine does: a crash becomes a `job_status: failed` event with the error.
 * Cancel sends SIGTERM, then SIGKILL after `graceMs`, whether the run works or is paused.
 * Pause / resume go down the engine's control channel: the job is `pausing` until the engine
 * says `paused` at its next batch boundary, and `running` again when it says `resumed`.
 */
export class JobRunner {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly launcher: EngineLauncher,
    private readonly events: EventHub,
    private readonly graceMs = 5000,
  ) {}

  start(kind: JobKind, configPath: string, options: JobStartOptions = {}): string {
    const jobId = options.jobId ?? randomUUID();
    if (this.jobs.has(jobId)) throw new StageBError('API_INVALID_REQUEST', `job ${jobId} exists already`, { field: 'jobId' });
    const info: JobInfo = {
      jobId,
      kind,
      configPath,
      status: 'starting',
      started_at: new Date().toISOString(),
      finished_at: null,
      exit_code: null,
      error: null,
      last_event: null,
      ...(options.run ? { run: options.run } : {}),
    };
    let process: EngineProcess;
    try {
      process = this.launcher({ jobId, kind, configPath, ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}) });
    } catch (error) {
      throw new StageBError('INTERNAL', `could not start the engine: ${(error as Error).message}`, { file: configPath });
    }
    const job: Job = { info, process, cancelRequested: false, killTimer: null };
    this.jobs.set(jobId, job);
    this.prune();
    this.setStatus(job, 'running', null, null);

    let lastError: SerializedError | null = null;
    let doneStatus: JobStatus | null = null;
    process.onStdoutLine((line) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        this.events.emit({ type: 'job_log', jobId, line: line.slice(0, MAX_LOG_LINE) });
        return;
      }
      const parsed = RunEventSchema.safeParse(value);
      if (!parsed.success) {
        this.events.emit({ type: 'job_log', jobId, line: line.slice(0, MAX_LOG_LINE) });
        return;
      }
      const event = parsed.data;
      job.info.last_event = event;
      if (event.type === 'error') lastError = toSerialized(event.error);
      if (event.type === 'done') doneStatus = event.status === 'running' ? null : event.status;
      this.events.emit({ type: 'run_event', jobId, event });
      if (event.type === 'paused' && LIVE_STATUSES.has(job.info.status)) this.setStatus(job, 'paused', null, null);
      if (event.type === 'resumed' && LIVE_STATUSES.has(job.info.status)) this.setStatus(job, 'running', null, null);
    });
    process.onStderrLine((line) => {
      if (line.trim() !== '') this.events.emit({ type: 'job_log', jobId, line: line.slice(0, MAX_LOG_LINE) });
    });
    process.onExit(({ code, signal, error }) => {
      if (job.killTimer) clearTimeout(job.killTimer);
      job.killTimer = null;
      if (error) {
        this.setStatus(job, 'failed', code, { code: 'INTERNAL', message: `engine process failed to start: ${error.message}`, location: { file: configPath } });
      } else if (job.cancelRequested) {
        this.setStatus(job, 'cancelled', code, null);
      } else if (code === 0) {
        this.setStatus(job, doneStatus === 'failed' ? 'failed' : doneStatus === 'cancelled' ? 'cancelled' : 'completed', code, doneStatus === 'failed' ? lastError : null);
      } else {
        const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        this.setStatus(job, 'failed', code, lastError ?? { code: 'INTERNAL', message: `the engine ${why}`, location: { file: configPath } });
      }
    });
    return jobId;
  }

  cancel(jobId: string): boolean {
    const job = this.find(jobId);
    if (!LIVE_STATUSES.has(job.info.status)) return false;
    job.cancelRequested = true;
    job.process.kill('SIGTERM');
    job.killTimer = setTimeout(() => job.process.kill('SIGKILL'), this.graceMs);
    job.killTimer.unref?.();
    return true;
  }

  /**
   * Asks a running stage_b / distill job to pause at its next batch boundary: `pausing` now,
   * `paused` once the engine waits there. false when there is nothing to pause.
   */
  pause(jobId: string): boolean {
    const job = this.find(jobId);
    if (!PAUSABLE_KINDS.has(job.info.kind)) {
      throw new StageBError('API_INVALID_REQUEST', `a ${job.info.kind} job has no batches to pause at; only Stage-B runs and distill runs pause`, { field: 'jobId' });
    }
    if ((job.info.status !== 'running' && job.info.status !== 'starting') || job.cancelRequested) return false;
    if (!job.process.send({ type: 'pause' })) return false;
    this.setStatus(job, 'pausing', null, null);
    return true;
  }

  /** Resumes a paused job, or withdraws a pause it has not reached yet. false when it is neither. */
  resume(jobId: string): boolean {
    const job = this.find(jobId);
    if ((job.info.status !== 'paused' && job.info.status !== 'pausing') || job.cancelRequested) return false;
    if (!job.process.send({ type: 'resume' })) return false;
    // A withdrawn pause is running again at once; a paused engine says so itself (`resumed`).
    if (job.info.status === 'pausing') this.setStatus(job, 'running', null, null);
    return true;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((job) => ({ ...job.info }));
  }

  get(jobId: string): JobInfo | null {
    const job = this.jobs.get(jobId);
    return job ? { ...job.info } : null;
  }

  /** Stops every running or paused engine (app quit). */
  shutdown(): void {
    for (const job of this.jobs.values()) if (LIVE_STATUSES.has(job.info.status)) this.cancel(job.info.jobId);
  }

  private find(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new StageBError('API_NOT_FOUND', `no job ${jobId}`, { field: 'jobId' });
    return job;
  }

  private setStatus(job: Job, status: JobStatus, exitCode: number | null, error: SerializedError | null): void {
    job.info.status = status;
    job.info.exit_code = exitCode;
    job.info.error = error;
    if (!LIVE_STATUSES.has(status)) job.info.finished_at = new Date().toISOString();
    this.events.emit({ type: 'job_status', jobId: job.info.jobId, status, exit_code: exitCode, error });
  }

  private prune(): void {
    if (this.jobs.size <= MAX_JOBS_KEPT) return;
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= MAX_JOBS_KEPT) break;
      if (!LIVE_STATUSES.has(job.info.status)) this.jobs.delete(id);
    }
  }
}

function toSerialized(error: { code: string; message: string; location: SerializedError['location'] }): SerializedError {
  return { code: (error.code as SerializedError['code']) ?? 'INTERNAL', message: error.message, location: error.location };
}
