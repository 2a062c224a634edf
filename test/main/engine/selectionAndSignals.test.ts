import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { selectCandidate } from '../../../src/main/engine/selection';
import { computeGroupSignals } from '../../../src/main/engine/signals';

const c = (candidate_index: number, verdict: 'pass' | 'fail' | null, confidence: number | null = null) => ({ candidate_index, verdict, confidence });

describe('selectCandidate', () => {
  it('takes the majority verdict', () => {
    const out = selectCandidate([c(0, 'pass', 0.9), c(1, 'fail', 0.2), c(2, 'fail', 0.1)]);
    expect(out.verdict).toBe('fail');
    expect(out.selected).toBe(1);
    expect(out.vote).toEqual({ pass: 1, fail: 2, malformed: 0 });
  });

  it('breaks a tie towards fail, never pass', () => {
    const out = selectCandidate([c(0, 'pass', 0.99), c(1, 'fail', 0.1)]);
    expect(out.verdict).toBe('fail');
    expect(out.selected).toBe(1);
  });

  it('prefers the highest confidence, then the lowest index', () => {
    expect(selectCandidate([c(0, 'fail', 0.5), c(1, 'fail', 0.7), c(2, 'fail', 0.7)]).selected).toBe(1);
    expect(selectCandidate([c(0, 'fail', null), c(1, 'fail', null)]).selected).toBe(0);
  });

  it('ignores malformed candidates and returns null when none is well formed', () => {
    expect(selectCandidate([c(0, null), c(1, 'pass', 0.4)]).verdict).toBe('pass');
    const none = selectCandidate([c(0, null), c(1, null)]);
    expect(none).toMatchObject({ selected: null, verdict: null, vote: { pass: 0, fail: 0, malformed: 2 } });
  });

  it('is order independent in verdict and never releases on a tie (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<'pass' | 'fail' | null>('pass', 'fail', null), { minLength: 1, maxLength: 8 }), (verdicts) => {
        const out = selectCandidate(verdicts.map((v, i) => c(i, v, 0.5)));
        const pass = verdicts.filter((v) => v === 'pass').length;
        const fail = verdicts.filter((v) => v === 'fail').length;
        if (pass + fail === 0) expect(out.verdict).toBeNull();
        else expect(out.verdict).toBe(pass > fail ? 'pass' : 'fail');
        if (out.selected !== null) expect(verdicts[out.selected]).toBe(out.verdict);
      }),
    );
  });
});

describe('computeGroupSignals', () => {
  it('computes the five signals', () => {
    const signals = computeGroupSignals([
      { verdict: 'fail', confidence: 0.8 },
      { verdict: 'fail', confidence: 0.6 },
      { verdict: 'pass', confidence: 0.9 },
      { verdict: null, confidence: null },
    ], 'fail');
    expect(signals[0]).toEqual({ label_match: true, self_consistency: 2 / 3, candidate_agreement: false, confidence: 0.8, label_trust: 3 / 5 });
    expect(signals[2]).toEqual({ label_match: false, self_consistency: 1 / 3, candidate_agreement: false, confidence: 0.9, label_trust: 3 / 5 });
    expect(signals[3]).toEqual({ label_match: null, self_consistency: null, candidate_agreement: false, confidence: null, label_trust: 3 / 5 });
  });

  it('has no label signals in inference-only runs', () => {
    const [signal] = computeGroupSignals([{ verdict: 'pass', confidence: 0.5 }], null);
    expect(signal).toEqual({ label_match: null, self_consistency: 1, candidate_agreement: true, confidence: 0.5, label_trust: null });
  });

  it('lowers label trust when all candidates agree against the label', () => {
    const against = computeGroupSignals(Array(4).fill({ verdict: 'pass', confidence: 0.9 }), 'fail')[0];
    const with_ = computeGroupSignals(Array(4).fill({ verdict: 'fail', confidence: 0.9 }), 'fail')[0];
    expect(against.label_trust).toBeCloseTo(1 / 6);
    expect(with_.label_trust).toBeCloseTo(5 / 6);
  });
});
