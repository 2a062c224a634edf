import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ExperienceMeta } from '../schemas/guidance';
import { compactExperiences } from './compactExperiences';

let nextId = 0;
const meta = (sources: string[], rule_id = `R-${String(++nextId).padStart(12, '0')}`): ExperienceMeta => ({ rule_id, origin: 'reflection', reflection_id: 'r', sources, rationale: null, updated_at: '2026-01-01T00:00:00.000Z', author: null, approved_by: null, merged_rule_ids: [] });

describe('compactExperiences', () => {
  it('normalises whitespace, drops duplicates into the first, renumbers densely, keeps G0 and S keys', () => {
    const out = compactExperiences({
      experiences: { G0: '  checklist\n\n  item   two ', G3: ' rule  a ', G7: 'rule a', G10: 'rule\tb', S1: '  invariant  ', G12: '   ' },
      metadata: { G3: meta(['a::fail'], 'R-aaaa'), G7: meta(['b::fail', 'a::fail'], 'R-bbbb'), G10: meta(['c::pass'], 'R-cccc'), G12: meta(['gone']), G99: meta(['orphan']) },
    });
    expect(out.experiences).toEqual({ G0: '  checklist\n\n  item   two ', G1: 'rule a', G2: 'rule b', S1: '  invariant  ' });
    expect(Object.keys(out.experiences)).toEqual(['G0', 'G1', 'G2', 'S1']);
    // Renumbering keeps each rule's id (G10 is still R-cccc as G2); the dropped duplicate's id is recorded as merged.
    expect(out.metadata).toEqual({ G1: { ...meta(['a::fail', 'b::fail'], 'R-aaaa'), merged_rule_ids: ['R-bbbb'] }, G2: meta(['c::pass'], 'R-cccc') });
    expect(out.keyMap).toEqual({ G0: 'G0', G3: 'G1', G7: 'G1', G10: 'G2', S1: 'S1' });
  });

  it('drops a learned key that repeats G0', () => {
    const out = compactExperiences({ experiences: { G0: ' same ', G1: 'same', G2: 'other' }, metadata: {} });
    expect(out.experiences).toEqual({ G0: ' same ', G1: 'other' });
    expect(out.keyMap).toEqual({ G0: 'G0', G1: 'G0', G2: 'G1' });
  });

  const textArb = fc.oneof(fc.constantFrom('a', ' a ', 'a  b', 'a b', 'b', '\n', '', 'c\n\nd'), fc.string({ maxLength: 6 }));
  const inputArb = fc
    .tuple(
      fc.dictionary(fc.nat(30).map((n) => `G${n}`), textArb, { maxKeys: 12 }),
      fc.dictionary(fc.nat(4).map((n) => `S${n}`), textArb, { maxKeys: 3 }),
    )
    .chain(([g, s]) => {
      const experiences = { ...g, ...s };
      const keys = Object.keys(experiences);
      return fc.record({
        experiences: fc.constant(experiences),
        metadata: keys.length === 0 ? fc.constant({}) : fc.dictionary(fc.constantFrom(...keys), fc.array(fc.constantFrom('p::pass', 'q::fail', 'r::fail')).map(meta)),
      });
    });

  it('is idempotent and dense, and keeps every distinct text (property)', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const once = compactExperiences(input);
        const twice = compactExperiences(once);
        expect(twice.experiences).toEqual(once.experiences);
        expect(Object.keys(twice.experiences)).toEqual(Object.keys(once.experiences));
        expect(twice.metadata).toEqual(once.metadata);
        const learned = Object.keys(once.experiences).filter((k) => k.startsWith('G') && k !== 'G0').map((k) => Number(k.slice(1)));
        expect(learned).toEqual(learned.map((_, i) => i + 1));
        for (const key of Object.keys(input.experiences).filter((k) => k.startsWith('S') || k === 'G0')) expect(once.experiences[key]).toBe(input.experiences[key]);
        if ('G0' in input.experiences) expect(once.experiences).toHaveProperty('G0');
        const texts = Object.entries(once.experiences).filter(([k]) => k.startsWith('G')).map(([, t]) => t);
        expect(new Set(texts).size).toBe(texts.length);
        for (const key of Object.keys(once.metadata)) expect(once.experiences).toHaveProperty(key);
        for (const [oldKey, newKey] of Object.entries(once.keyMap)) {
          expect(once.experiences).toHaveProperty(newKey);
          if (!oldKey.startsWith('S') && newKey !== 'G0') expect(once.experiences[newKey]).toBe(input.experiences[oldKey].split(/\r?\n|\r/).map((l) => l.replace(/[\s\u3000]+/gu, ' ').trim()).filter(Boolean).join('\n'));
        }
      }),
      { numRuns: 400 },
    );
  });
});
