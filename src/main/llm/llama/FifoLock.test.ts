import { describe, expect, it } from 'vitest';
import { FifoLock } from './FifoLock';

describe('FifoLock', () => {
  it('runs tasks one at a time in call order, and a failing task does not block the next', async () => {
    const lock = new FifoLock();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ms: number, fail = false) => () =>
      new Promise<string>((resolve, reject) => {
        running++;
        expect(running).toBe(1);
        log.push(`start ${name}`);
        setTimeout(() => {
          running--;
          log.push(`end ${name}`);
          if (fail) reject(new Error(name));
          else resolve(name);
        }, ms);
      });
    const results = await Promise.allSettled([lock.run(task('a', 20)), lock.run(task('b', 1, true)), lock.run(task('c', 5))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
