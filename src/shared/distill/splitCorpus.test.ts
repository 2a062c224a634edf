import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StageBError } from '../errors';
import { splitCorpus } from './splitCorpus';
import { markHighValue } from './markHighValue';
import { distillRecord } from './testFixtures';
import type { DistillRecord } from '../schemas/records';
import type { GroupLabel } from '../verdict';

const key = (r: DistillRecord) => `${r.mission}/${r.group_id}/${r.label}`;

describe('splitCorpus', () => {
  it('is deterministic for a seed, independent of input order, and changes with the seed', () => {
    const records = Array.from({ length: 200 }, (_, i) => distillRecord(`g${i}`, i % 3 === 0 ? 'fail' : 'pass', i % 3 === 0 ? 'fail' : 'pass'));
    const a = splitCorpus(records, { valFraction: 0.2, seed: 17, dropLabelConflicts: false });
    const b = splitCorpus([...records].reverse(), { valFraction: 0.2, seed: 17, dropLabelConflicts: false });
    const c = splitCorpus(records, { valFraction: 0.2, seed: 18, dropLabelConflicts: false });
    expect(a.val.map(key).sort()).toEqual(b.val.map(key).sort());
    expect(a.val.map(key).sort()).not.toEqual(c.val.map(key).sort());
    // Output keeps input order.
    const indexOf = new Map(records.map((r, i) => [key(r), i]));
    const trainIdx = a.train.map((r) => indexOf.get(key(r))!);
    expect(trainIdx).toEqual([...trainIdx].sort((x, y) => x - y));
  });

  it('stratifies by label: each stratum sends round(n × fraction) to val, and nothing is lost', () => {
    const label = fc.constantFrom<GroupLabel | null>('pass', 'fail', null);
    fc.assert(
      fc.property(
        fc.array(label, { maxLength: 300 }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.nat({ max: 1_000_000 }),
        (labels, valFraction, seed) => {
          const records = labels.map((l, i) => distillRecord(`g${i}`, l, l ?? 'pass'));
          const { train, val, counts } = splitCorpus(records, { valFraction, seed, dropLabelConflicts: false });
          expect(train.length + val.length).toBe(records.length);
          for (const stratum of ['pass', 'fail', 'unlabeled'] as const) {
            const n = labels.filter((l) => (l ?? 'unlabeled') === stratum).length;
            expect(counts.val[stratum]).toBe(Math.round(n * valFraction));
            expect(counts.train[stratum] + counts.val[stratum]).toBe(n);
          }
          const trainKeys = new Set(train.map(key));
          expect(val.some((r) => trainKeys.has(key(r)))).toBe(false);
          const again = splitCorpus(records, { valFraction, seed, dropLabelConflicts: false });
          expect(again.val).toEqual(val);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('drops label conflicts only when asked, and always drops malformed assistant turns', () => {
    const malformed: DistillRecord = {
      ...distillRecord('bad', 'fail', 'fail'),
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'u' },
        { role: 'assistant', content: 'I think it is fine' },
      ],
    };
    const records = [
      distillRecord('ok-pass', 'pass', 'pass'),
      distillRecord('ok-fail', 'fail', 'fail'),
      distillRecord('released', 'fail', 'pass'),
      distillRecord('overcautious', 'pass', 'fail'),
      distillRecord('unlabelled', null, 'fail'),
      malformed,
    ];
    const kept = splitCorpus(records, { valFraction: 0, seed: 1, dropLabelConflicts: false });
    expect(kept.train.map((r) => r.group_id)).toEqual(['ok-pass', 'ok-fail', 'released', 'overcautious', 'unlabelled']);
    expect(kept.counts.dropped).toEqual({ label_conflict: 0, malformed: 1, total: 1 });

    const filtered = splitCorpus(records, { valFraction: 0, seed: 1, dropLabelConflicts: true });
    expect(filtered.train.map((r) => r.group_id)).toEqual(['ok-pass', 'ok-fail', 'unlabelled']);
    expect(filtered.counts.dropped).toEqual({ label_conflict: 2, malformed: 1, total: 3 });
    expect(filtered.counts.train).toEqual({ pass: 1, fail: 1, unlabeled: 1, total: 3 });
    expect(filtered.counts.input).toBe(6);
  });

  it('rejects a val fraction outside [0, 1)', () => {
    expect(() => splitCorpus([], { valFraction: 1, seed: 1, dropLabelConflicts: false })).toThrow(StageBError);
    expect(() => splitCorpus([], { valFraction: -0.1, seed: 1, dropLabelConflicts: false })).toThrow(/val fraction/);
  });
});

describe('markHighValue', () => {
  it('flags exactly the label=fail & verdict=fail rows', () => {
    const records = [
      distillRecord('a', 'fail', 'fail'),
      distillRecord('b', 'fail', 'pass'),
      distillRecord('c', 'pass', 'fail'),
      distillRecord('d', 'pass', 'pass'),
      distillRecord('e', null, 'fail'),
      distillRecord('f', 'fail', 'fail', '挂墙式BBU检查'),
    ];
    expect(markHighValue(records, 'val')).toEqual([
      { group_id: 'a', mission: 'BBU接地线检查', split: 'val', priority: 'fail_fail' },
      { group_id: 'f', mission: '挂墙式BBU检查', split: 'val', priority: 'fail_fail' },
    ]);
  });
});
