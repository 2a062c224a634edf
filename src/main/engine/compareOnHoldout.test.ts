import { describe, expect, it } from 'vitest';
import type { HoldoutVerdict } from '../../shared/schemas/holdoutComparison';
import { compareOnHoldout } from './compareOnHoldout';

const row = (key: string, label: 'pass' | 'fail', verdict: 'pass' | 'fail' | null): HoldoutVerdict => ({ ticket_key: `${key}::${label}`, label, verdict });

describe('compareOnHoldout', () => {
  const baseline = [row('a', 'fail', 'pass'), row('b', 'fail', 'fail'), row('c', 'pass', 'fail'), row('d', 'pass', 'pass'), row('e', 'fail', null)];
  // a: release fixed; c: fixed; d: broken; e: malformed -> released.
  const candidate = [row('a', 'fail', 'fail'), row('b', 'fail', 'fail'), row('c', 'pass', 'pass'), row('d', 'pass', 'fail'), row('e', 'fail', 'pass')];

  it('counts both rates, their paired differences and the changed tickets by hand', () => {
    const c = compareOnHoldout(baseline, candidate, { samples: 2000, seed: 3 });
    // baseline matches b, d (2/5); candidate matches a, b, c (3/5).
    expect(c.baseline).toEqual({ label_match_rate: 2 / 5, false_release_rate: 1 / 3, labelled: 5, fail_tickets: 3 });
    expect(c.candidate).toEqual({ label_match_rate: 3 / 5, false_release_rate: 1 / 3, labelled: 5, fail_tickets: 3 });
    expect(c.label_match_difference.estimate).toBeCloseTo(1 / 5, 12);
    expect(c.label_match_difference.n).toBe(5);
    // Over the 3 fail tickets: a stops being released, e starts: 0.
    expect(c.false_release_difference).toMatchObject({ estimate: 0, n: 3 });
    expect(c.changed_tickets.map((t) => [t.ticket_key, t.before, t.after])).toEqual([
      ['a::fail', 'pass', 'fail'],
      ['c::pass', 'fail', 'pass'],
      ['d::pass', 'pass', 'fail'],
      ['e::fail', null, 'pass'],
    ]);
    expect(c.uplift_probability).toBeGreaterThan(0.5);
    expect(c.uplift_probability).toBeLessThan(1);
  });

  it('has no false-release difference without a fail ticket, and refuses unpaired evaluations', () => {
    const passOnly = [row('p', 'pass', 'pass')];
    expect(compareOnHoldout(passOnly, passOnly, { samples: 10, seed: 1 }).false_release_difference).toEqual({ estimate: null, lower: null, upper: null, n: 0 });
    expect(() => compareOnHoldout(baseline, candidate.slice(1), { samples: 10, seed: 1 })).toThrow(/same tickets/);
  });
});
