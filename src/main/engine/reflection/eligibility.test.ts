import { describe, expect, it } from 'vitest';
import { buildBundle, evaluateEligibility } from './eligibility';
import { makeGroup, type GroupSpec } from './reflectionTestData';

function bundle(specs: GroupSpec[]) {
  const groups = specs.map(makeGroup);
  return buildBundle(groups.map((g) => g.selection), groups.flatMap((g) => g.candidates));
}

describe('evaluateEligibility', () => {
  it('all candidates correct -> non_conflict_bundle', () => {
    const e = evaluateEligibility(bundle([
      { group: 'g1', label: 'pass', verdicts: ['pass', 'pass'] },
      { group: 'g2', label: 'fail', verdicts: ['fail', 'fail', null] },
    ]), new Set());
    expect(e).toMatchObject({ eligible: false, ineligible_reason: 'non_conflict_bundle', conditions: [] });
    expect(e.learnable).toEqual(['g1::pass', 'g2::fail']);
  });

  it('(a) a selected candidate that mismatches its label', () => {
    const e = evaluateEligibility(bundle([
      { group: 'g1', label: 'pass', verdicts: ['pass', 'pass'] },
      { group: 'g2', label: 'fail', verdicts: ['pass', 'pass'] },
    ]), new Set());
    expect(e.eligible).toBe(true);
    expect(e.conditions).toContain('selected_mismatch');
  });

  it('(b) mixed label_match inside one group although the selection is right', () => {
    const e = evaluateEligibility(bundle([{ group: 'g1', label: 'fail', verdicts: ['fail', 'fail', 'pass'] }]), new Set());
    expect(e.eligible).toBe(true);
    expect(e.conditions).toEqual(['mixed_label_match']);
  });

  it('(c) a conflict flag on a candidate makes an all-correct bundle eligible', () => {
    const e = evaluateEligibility(bundle([
      { group: 'g1', label: 'pass', verdicts: ['pass', 'pass'], warnings: ['candidates_disagree_with_label'] },
    ]), new Set());
    expect(e.conditions).toEqual(['flagged']);
  });

  it('need_review groups only count through the flag and are not learnable', () => {
    const e = evaluateEligibility(bundle([
      { group: 'g1', label: 'pass', verdicts: ['pass', 'pass'] },
      { group: 'noisy', label: 'pass', verdicts: ['fail', 'fail'] },
    ]), new Set(['noisy::pass']));
    expect(e.conditions).toEqual(['flagged']);
    expect(e.learnable).toEqual(['g1::pass']);
    expect(e.need_review).toEqual(['noisy::pass']);
  });

  it('unlabelled and all-malformed groups give no label signal', () => {
    const e = evaluateEligibility(bundle([
      { group: 'u', label: null, verdicts: ['pass', 'fail'] },
      { group: 'm', label: 'pass', verdicts: [null, null] },
    ]), new Set());
    expect(e.eligible).toBe(false);
  });
});
