import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sortExperienceKeys } from './sortExperienceKeys';
import { renderExperiences } from './renderExperiences';

describe('sortExperienceKeys', () => {
  it('puts G keys first in numeric order, then S keys', () => {
    expect(sortExperienceKeys(['S2', 'G10', 'G2', 'S1', 'G0', 'G1', 'S10'])).toEqual(['G0', 'G1', 'G2', 'G10', 'S1', 'S2', 'S10']);
  });

  it('does not mutate its input and is a permutation', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.constantFrom('G', 'S'), fc.nat(200)).map(([p, n]) => `${p}${n}`)), (keys) => {
        const copy = [...keys];
        const sorted = sortExperienceKeys(keys);
        expect(keys).toEqual(copy);
        expect([...sorted].sort()).toEqual([...keys].sort());
        const g = sorted.filter((k) => k.startsWith('G')).map((k) => Number(k.slice(1)));
        expect(g).toEqual([...g].sort((a, b) => a - b));
        const firstS = sorted.findIndex((k) => k.startsWith('S'));
        if (firstS !== -1) expect(sorted.slice(firstS).every((k) => k.startsWith('S'))).toBe(true);
      }),
    );
  });
});

describe('renderExperiences', () => {
  it('renders the spec block in numeric key order', () => {
    expect(renderExperiences({ G10: 'ten', S1: 'invariant', G2: 'two', G0: 'checklist' })).toBe(
      '[G0]. checklist\n[G2]. two\n[G10]. ten\n[S1]. invariant',
    );
  });

  it('renders an empty map as an empty string', () => {
    expect(renderExperiences({})).toBe('');
  });
});
