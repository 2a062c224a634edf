import { describe, expect, it } from 'vitest';
import { findNeedReview } from './needReview';
import { makeGroup } from './reflectionTestData';
import { NeedReviewRecordSchema } from '../../../shared/schemas/records';

const NOW = '2026-02-02T00:00:00.000Z';

function epochs(group: string, label: 'pass' | 'fail', perEpoch: ('pass' | 'fail' | null)[][]) {
  return perEpoch.map((verdicts, epoch) => makeGroup({ group, label, verdicts, epoch }));
}

describe('findNeedReview', () => {
  it('queues a group whose candidates unanimously contradict the label in >= minEpochs epochs', () => {
    const rows = [
      ...epochs('noisy', 'pass', [['fail', 'fail', null], ['fail', 'fail', 'fail'], ['pass', 'fail', 'fail']]),
      ...epochs('hard', 'fail', [['pass', 'fail'], ['pass', 'pass']]),
      ...epochs('fine', 'fail', [['fail', 'fail'], ['fail', 'fail']]),
    ];
    const out = findNeedReview(rows.map((r) => r.selection), rows.flatMap((r) => r.candidates), 2, NOW);
    expect(out).toHaveLength(1);
    const [record] = out;
    expect(NeedReviewRecordSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({ ticket_key: 'noisy::pass', label: 'pass', agreed_verdict: 'fail', epochs: [0, 1], created_at: NOW });
    expect(record.evidence[0].vote).toEqual({ pass: 0, fail: 2, malformed: 1 });
    expect(record.evidence[1].vote).toEqual({ pass: 0, fail: 3, malformed: 0 });
    expect(record.evidence[0].reason).toBe('理由0');
  });

  it('respects minEpochs and ignores unlabelled and all-malformed epochs', () => {
    const rows = [
      ...epochs('once', 'fail', [['pass', 'pass'], ['fail', 'pass']]),
      ...epochs('broken', 'pass', [[null, null], [null, null]]),
    ];
    const unlabelled = [0, 1].map((epoch) => makeGroup({ group: 'u', label: null, verdicts: ['fail', 'fail'], epoch }));
    const all = [...rows, ...unlabelled];
    expect(findNeedReview(all.map((r) => r.selection), all.flatMap((r) => r.candidates), 2, NOW)).toEqual([]);
    expect(findNeedReview(all.map((r) => r.selection), all.flatMap((r) => r.candidates), 1, NOW).map((r) => r.ticket_key)).toEqual(['once::fail']);
  });

  it('counts only epochs up to throughEpoch (a resumed run already holds later epochs; the queue must not change)', () => {
    const rows = epochs('noisy', 'pass', [['fail', 'fail'], ['fail', 'fail']]);
    const selections = rows.map((r) => r.selection);
    const trajectories = rows.flatMap((r) => r.candidates);
    // Found by engineCrash.test.ts: with epoch 1 rows on disk, the queue after epoch 0 gained this key on resume only.
    expect(findNeedReview(selections, trajectories, 2, NOW, 0)).toEqual([]);
    expect(findNeedReview(selections, trajectories, 2, NOW, 1).map((r) => r.ticket_key)).toEqual(['noisy::pass']);
    expect(findNeedReview(selections, trajectories, 2, NOW)).toEqual(findNeedReview(selections, trajectories, 2, NOW, 1));
  });

  it('falls back to the selection vote when an epoch has no trajectories', () => {
    const rows = epochs('noisy', 'fail', [['pass', 'pass'], ['pass', 'pass']]);
    const out = findNeedReview(rows.map((r) => r.selection), [], 2, NOW);
    expect(out.map((r) => r.agreed_verdict)).toEqual(['pass']);
  });
});
