import { StageBError } from '../../../shared/errors';
import type { RunEvent } from '../../../shared/schemas/telemetry';

/** Where the pipeline stands when it asks: before batch `batchIndex` (of `batches`) of epoch `epoch`. */
export type BatchBoundary = { epoch: number; batchIndex: number; batches: number };

/**
 * The operator's live control of a run, as the pipeline sees it: it asks once at every batch
 * boundary (the batch before it and that batch's reflection are done, nothing of the next one
 * has started), so a pause never splits a batch and a paused-then-resumed run writes what an
 * uninterrupted one writes.
 */
export interface RunControl {
  /**
   * Resolves at once with 0 unless a pause was asked for. Then it announces `paused`, waits
   * until resume, announces `resumed` and resolves with the milliseconds it waited (time
   * that is no run time). A cancel while it waits rejects with CANCELLED.
   */
  atBatchBoundary(boundary: BatchBoundary, announce: (event: RunEvent) => Promise<void>): Promise<number>;
}

export type RunControlState = 'running' | 'pausing' | 'paused';

/**
 * The RunControl the engine host drives from the workbench's messages (pause, resume) and
 * its cancel signal. Holds no IO: the edge reads the messages and calls pause / resume.
 */
export class PausableRunControl implements RunControl {
  private pauseRequested = false;
  private waiting = false;
  private wake: (() => void) | null = null;
  private readonly clock: () => number;
  private readonly now: () => string;

  constructor(private readonly options: { signal?: AbortSignal; clock?: () => number; now?: () => string } = {}) {
    this.clock = options.clock ?? (() => Date.now());
    this.now = options.now ?? (() => new Date().toISOString());
  }

  /** running: no pause asked for; pausing: asked for, the batch in flight finishes first; paused: waiting at a boundary. */
  get state(): RunControlState {
    if (this.waiting) return 'paused';
    return this.pauseRequested ? 'pausing' : 'running';
  }

  /** Pause at the next batch boundary (at once when the run is waiting at one already). */
  pause(): void {
    this.pauseRequested = true;
  }

  /** Continue with the next batch; before the boundary is reached it withdraws the pause. */
  resume(): void {
    this.pauseRequested = false;
    this.wake?.();
  }

  async atBatchBoundary(boundary: BatchBoundary, announce: (event: RunEvent) => Promise<void>): Promise<number> {
    if (!this.pauseRequested) return 0;
    const signal = this.options.signal;
    if (signal?.aborted) throw cancelledWhilePaused();
    const since = this.clock();
    this.waiting = true;
    try {
      await announce({ type: 'paused', ts: this.now(), epoch: boundary.epoch, batch_index: boundary.batchIndex, batches: boundary.batches });
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          this.wake = null;
          reject(cancelledWhilePaused());
        };
        this.wake = () => {
          this.wake = null;
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        // A resume or a cancel may have come while `paused` was being written.
        if (signal?.aborted) return onAbort();
        if (!this.pauseRequested) return this.wake();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      this.waiting = false;
    }
    const pausedMs = Math.max(0, this.clock() - since);
    await announce({ type: 'resumed', ts: this.now(), epoch: boundary.epoch, batch_index: boundary.batchIndex, paused_ms: pausedMs });
    return pausedMs;
  }
}

function cancelledWhilePaused(): StageBError {
  return new StageBError('CANCELLED', 'run cancelled by the operator while paused');
}
