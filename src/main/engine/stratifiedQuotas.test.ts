import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Ticket } from '../../shared/schemas/stageARecord';
import { stratifiedQuotas } from './stratifiedQuotas';
import { limitTickets, splitHoldout } from './epochPlan';

function ticket(i: number, label: 'pass' | 'fail' | null): Ticket {
  return { ticket_key: `T${i}::${label ?? 'unlabeled'}`, group_id: `T${i}`, mission: 'm', label, images: [], summaries: [{ image: 'image_1', text: 'x' }], source: { file: 'f', line: i + 1 } };
}

describe('stratifiedQuotas', () => {
  it('is proportional and gives every present group one when the total allows', () => {
    expect(stratifiedQuotas([60, 40], 20)).toEqual([12, 8]);
    expect(stratifiedQuotas([2, 46], 9)).toEqual([1, 8]);
    expect(stratifiedQuotas([0, 10], 3)).toEqual([0, 3]);
    expect(stratifiedQuotas([1, 1, 1], 2)).toEqual([1, 1, 0]);
  });

  it('sums to min(total, available), respects caps, and never starves a present group (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 4 }), fc.nat(120), (sizes, total) => {
        const caps = sizes.map((s) => Math.max(0, s - 1));
        const quotas = stratifiedQuotas(sizes, total, caps);
        const available = caps.reduce((a, b) => a + b, 0);
        expect(quotas.reduce((a, b) => a + b, 0)).toBe(Math.min(total, available));
        quotas.forEach((q, i) => expect(q).toBeLessThanOrEqual(caps[i]));
        const present = caps.filter((c) => c > 0).length;
        if (Math.min(total, available) >= present) caps.forEach((c, i) => c > 0 && expect(quotas[i]).toBeGreaterThan(0));
      }),
    );
  });
});

describe('limitTickets (runner.max_tickets)', () => {
  it('keeps both labels when the first N lines carry only one, in file order', () => {
    const input = [...Array.from({ length: 48 }, (_, i) => ticket(i, 'pass')), ...Array.from({ length: 12 }, (_, i) => ticket(48 + i, 'fail'))];
    const kept = limitTickets(input, 48);
    expect(kept).toHaveLength(48);
    expect(kept.filter((t) => t.label === 'fail')).toHaveLength(10);
    expect(kept.map((t) => t.source.line)).toEqual([...kept.map((t) => t.source.line)].sort((a, b) => a - b));
    expect(limitTickets(input, 100)).toEqual(input);
  });
});

describe('splitHoldout', () => {
  it('holds out a fail ticket even when rounding would give fails none', () => {
    const input = [...Array.from({ length: 46 }, (_, i) => ticket(i, 'pass')), ticket(46, 'fail'), ticket(47, 'fail')];
    const { train, holdout } = splitHoldout(input, { fraction: 0.2, max: 64, seed: 3 });
    expect(holdout.filter((t) => t.label === 'fail')).toHaveLength(1);
    expect(holdout).toHaveLength(9);
    expect(train.filter((t) => t.label === 'fail')).toHaveLength(1);
  });

  it('has both labels whenever the input has both (property)', () => {
    fc.assert(
      fc.property(fc.nat(30), fc.nat(30), fc.double({ min: 0.01, max: 0.9, noNaN: true }), fc.integer({ min: 2, max: 64 }), fc.nat(), (fails, passes, fraction, max, seed) => {
        const input = [...Array.from({ length: fails }, (_, i) => ticket(i, 'fail')), ...Array.from({ length: passes }, (_, i) => ticket(100 + i, 'pass'))];
        const { holdout, train } = splitHoldout(input, { fraction, max, seed });
        expect(holdout.length + train.length).toBe(input.length);
        if (fails > 0 && passes > 0) {
          expect(holdout.some((t) => t.label === 'fail')).toBe(true);
          expect(holdout.some((t) => t.label === 'pass')).toBe(true);
        }
      }),
    );
  });
});
