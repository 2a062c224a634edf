import { StageBError } from '../../../shared/errors';

/**
 * Counting semaphore with FIFO waiters. The OpenAI backend holds one permit per
 * HTTP request in flight, so `concurrency` bounds what the server sees no matter
 * how many generate() calls the engine has open.
 */
export class Semaphore {
  private available: number;
  private readonly waiters: Array<{ grant: () => void; signal?: AbortSignal; onAbort?: () => void }> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new StageBError('INTERNAL', `semaphore limit must be a positive integer, got ${limit}`);
    this.available = limit;
  }

  /** Resolves to a release function; rejects with CANCELLED if the signal aborts while waiting. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(cancelled());
    if (this.available > 0) {
      this.available--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = {
        signal,
        grant: () => {
          if (waiter.onAbort) signal?.removeEventListener('abort', waiter.onAbort);
          resolve(this.releaser());
        },
      };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(cancelled());
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await task();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // The permit passes straight to the next waiter, so `available` never overshoots.
      if (next) next.grant();
      else this.available++;
    };
  }
}

function cancelled(): StageBError {
  return new StageBError('CANCELLED', 'cancelled while waiting for a free connection slot');
}
