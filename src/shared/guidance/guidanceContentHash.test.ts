import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { guidanceContentHash } from './guidanceContentHash';
import { sha256Hex } from './sha256Hex';
import { canonicalJson } from './canonicalJson';
import { planFingerprint } from './planFingerprint';

const meta = { rule_id: 'R-0001', origin: 'initial' as const, reflection_id: null, sources: ['a::pass'], rationale: null, updated_at: '2025-01-01T00:00:00.000Z', author: null, approved_by: null, merged_rule_ids: [] };

describe('sha256Hex', () => {
  it('matches node:crypto on arbitrary unicode text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
      }),
    );
  });
});

describe('guidanceContentHash', () => {
  it('ignores key insertion order', () => {
    const a = guidanceContentHash({ experiences: { G0: 'x', G1: 'y' }, metadata: { G1: meta } });
    const b = guidanceContentHash({ metadata: { G1: { ...meta } }, experiences: { G1: 'y', G0: 'x' } });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when a text or a metadata field changes', () => {
    const base = guidanceContentHash({ experiences: { G0: 'x', G1: 'y' }, metadata: { G1: meta } });
    expect(guidanceContentHash({ experiences: { G0: 'x', G1: 'y ' }, metadata: { G1: meta } })).not.toBe(base);
    expect(guidanceContentHash({ experiences: { G0: 'x', G1: 'y' }, metadata: { G1: { ...meta, sources: [] } } })).not.toBe(base);
    expect(guidanceContentHash({ experiences: { G0: 'x', G1: 'y' }, metadata: {} })).not.toBe(base);
  });

  it('canonicalJson sorts keys at every depth', () => {
    expect(canonicalJson({ b: [{ z: 1, a: 2 }], a: null, c: undefined })).toBe('{"a":null,"b":[{"a":2,"z":1}]}');
  });
});

describe('planFingerprint', () => {
  const ops = [{ op: 'add' as const, key: 'NEW', text: 'rule', evidence: ['g1::fail'] }];
  it('is stable under key order and distinguishes content, order and scope', () => {
    const same = [{ evidence: ['g1::fail'], text: 'rule', key: 'NEW', op: 'add' as const }];
    expect(planFingerprint(ops, 'r1')).toBe(planFingerprint(same, 'r1'));
    expect(planFingerprint(ops, 'r1')).not.toBe(planFingerprint(ops, 'r2'));
    expect(planFingerprint(ops, 'r1')).not.toBe(planFingerprint([{ ...ops[0], text: 'rule 2' }], 'r1'));
    const two = [ops[0], { op: 'remove' as const, key: 'G3', evidence: [] }];
    expect(planFingerprint(two)).not.toBe(planFingerprint([two[1], two[0]]));
  });
});
