import { describe, expect, it } from 'vitest';
import { serverFigures, type BatchSample } from '../../bench/server/serverFigures';

const steady = (path: number, batch: number): BatchSample => ({ path, batch, before: { probe: 100 }, after: { probe: 104 } });
const rule = { rateTolerance: 0.25 };

describe('serverFigures', () => {
  it('keeps steady batches and computes each path over them', () => {
    const samples = [0, 1].flatMap((batch) => [0, 1, 2].map((path) => steady(path, batch)));
    const f = serverFigures({ samples, batchSeconds: [[2, 2], [1, 1], [4, 4]], batchTickets: [8, 8], labels: ['e', 's', 'r'], rule, maxDisturbedFraction: 0.5 });
    expect(f.summary.tooMany).toBe(false);
    expect(f.rates).toEqual([4, 8, 2]);
  });

  it('leaves a batch out of every path when one path ran it on a disturbed host', () => {
    const samples = [0, 1, 2].flatMap((batch) => [0, 1, 2].map((path) => steady(path, batch)));
    samples[4] = { path: 1, batch: 1, before: { probe: 185 }, after: { probe: 57 } };
    const f = serverFigures({ samples, batchSeconds: [[1, 9, 1], [1, 9, 1], [1, 9, 1]], batchTickets: [8, 8, 4], labels: ['e', 's', 'r'], rule, maxDisturbedFraction: 0.5 });
    expect(f.batches.map((b) => b.disturbed)).toEqual([false, true, false]);
    expect(f.keptTickets).toBe(12);
    expect(f.rates).toEqual([6, 6, 6]);
  });

  it('has no result when too many batches were disturbed', () => {
    const samples = [0, 1].flatMap((batch) => [0, 1].map((path) => ({ path, batch, before: { probe: 200 }, after: { probe: 50 } })));
    const f = serverFigures({ samples, batchSeconds: [[1, 1], [1, 1]], batchTickets: [8, 8], labels: ['e', 's'], rule, maxDisturbedFraction: 0.5 });
    expect(f.summary.tooMany).toBe(true);
    expect(f.summary.reason).toMatch(/disturbed/);
    expect(f.rates).toEqual([null, null]);
  });
});
