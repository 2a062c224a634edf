import { describe, expect, it } from 'vitest';
import { Semaphore } from './Semaphore';
import { StageBError } from '../../../shared/errors';

describe('Semaphore', () => {
  it('admits at most `limit` holders and hands permits over in FIFO order', async () => {
    const semaphore = new Semaphore(2);
    const order: string[] = [];
    const releaseA = await semaphore.acquire();
    const releaseB = await semaphore.acquire();
    const c = semaphore.acquire().then((release) => (order.push('c'), release));
    const d = semaphore.acquire().then((release) => (order.push('d'), release));
    await Promise.resolve();
    expect(order).toEqual([]);
    releaseA();
    releaseA(); // a second release of the same permit is a no-op
    const releaseC = await c;
    expect(order).toEqual(['c']);
    releaseB();
    const releaseD = await d;
    expect(order).toEqual(['c', 'd']);
    releaseC();
    releaseD();
    // Both permits are free again.
    (await semaphore.acquire())();
    const [x, y] = await Promise.all([semaphore.acquire(), semaphore.acquire()]);
    x();
    y();
  });

  it('rejects a waiter with CANCELLED when its signal aborts, and keeps the permit count right', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(StageBError);
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    release();
    const again = await semaphore.acquire();
    again();
  });

  it('bounds concurrent tasks under run()', async () => {
    const semaphore = new Semaphore(3);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        semaphore.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((resolve) => setImmediate(resolve));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });
});
