import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StageBError } from '../errors';
import type { ExperienceMeta } from '../schemas/guidance';
import type { ReflectionOperation } from '../schemas/records';
import { applyOperations } from './applyOperations';
import { withRuleIds } from './withRuleIds';

const provenance = { reflection_id: 'r-7', updated_at: '2025-02-03T04:05:06.000Z' };
const initialMeta: ExperienceMeta = { rule_id: 'R-000000000001', origin: 'initial', reflection_id: null, sources: ['old::fail'], rationale: null, updated_at: '2025-01-01T00:00:00.000Z', author: null, approved_by: null, merged_rule_ids: [] };
const state = {
  experiences: { G0: '检查接地线是否连接。', G1: '接地线松动判为不通过。', G2: '线径不足判为不通过。', S1: '禁止放行无照片的工单。' },
  metadata: { G1: initialMeta, G2: { ...initialMeta, rule_id: 'R-000000000002', sources: ['two::fail'] } },
};

function rejection(operations: ReflectionOperation[]): StageBError {
  try {
    applyOperations(state, operations, provenance);
  } catch (error) {
    expect(error).toBeInstanceOf(StageBError);
    expect((error as StageBError).code).toBe('GUIDANCE_REJECTED_OPERATION');
    return error as StageBError;
  }
  throw new Error('expected a rejection');
}

describe('applyOperations', () => {
  it('adds after the highest G key whatever placeholder key the model wrote, with provenance', () => {
    const out = applyOperations(state, [{ op: 'add', key: 'NEW', text: '  接地排锈蚀需整改。 ', rationale: 'seen twice', evidence: ['a::fail', 'b::fail', 'a::fail'] }], provenance);
    expect(Object.keys(out.experiences)).toEqual(['G0', 'G1', 'G2', 'G3', 'S1']);
    expect(out.experiences.G3).toBe('接地排锈蚀需整改。');
    expect(out.metadata.G3).toEqual({
      rule_id: expect.stringMatching(/^R-[0-9a-f]{12}$/),
      origin: 'reflection',
      reflection_id: 'r-7',
      sources: ['a::fail', 'b::fail'],
      rationale: 'seen twice',
      updated_at: provenance.updated_at,
      author: null,
      approved_by: null,
      merged_rule_ids: [],
    });
    expect(Object.values(out.metadata).map((m) => m.rule_id)).toHaveLength(new Set(Object.values(out.metadata).map((m) => m.rule_id)).size);
    expect(state.experiences).not.toHaveProperty('G3');
  });

  it('adds after G10 numerically, not lexically', () => {
    const wide = { experiences: { G0: 'c', G2: 'b', G10: 'a' }, metadata: {} };
    const out = applyOperations(wide, [{ op: 'add', key: 'G3', text: 'new rule', evidence: [] }], provenance);
    expect(out.experiences.G11).toBe('new rule');
    expect(Object.keys(out.experiences)).toEqual(['G0', 'G2', 'G10', 'G11']);
  });

  it('modifies an existing key and records the annotator origin', () => {
    const out = applyOperations(state, [{ op: 'modify', key: 'G1', text: '接地线未紧固判为不通过。', evidence: ['c::fail'] }], { ...provenance, origin: 'annotator' });
    expect(out.experiences.G1).toBe('接地线未紧固判为不通过。');
    expect(out.metadata.G1).toMatchObject({ rule_id: 'R-000000000001', origin: 'annotator', sources: ['c::fail'], rationale: null });
    expect(out.metadata.G2).toEqual(state.metadata.G2);
  });

  it('merges keys into one, carrying their sources, and removes the merged keys', () => {
    const out = applyOperations(state, [{ op: 'merge', key: 'G1', merge_from: ['G2'], text: '接地线松动或线径不足判为不通过。', evidence: ['m::fail'] }], provenance);
    expect(out.experiences).toEqual({ G0: state.experiences.G0, G1: '接地线松动或线径不足判为不通过。', S1: state.experiences.S1 });
    expect(out.metadata.G1.sources).toEqual(['m::fail', 'old::fail', 'two::fail']);
    expect(out.metadata.G1).toMatchObject({ rule_id: 'R-000000000001', merged_rule_ids: ['R-000000000002'] });
    expect(out.metadata).not.toHaveProperty('G2');
  });

  it('removes a learned key and its metadata', () => {
    const out = applyOperations(state, [{ op: 'remove', key: 'G2', evidence: [] }], provenance);
    expect(out.experiences).not.toHaveProperty('G2');
    expect(out.metadata).not.toHaveProperty('G2');
  });

  it('rejects every forbidden operation with a field naming the operation', () => {
    expect(rejection([{ op: 'remove', key: 'G0', evidence: [] }]).location.field).toBe('operations[0].key');
    expect(rejection([{ op: 'modify', key: 'G1', text: 'ok', evidence: [] }, { op: 'remove', key: 'S1', evidence: [] }]).location.field).toBe('operations[1].key');
    expect(rejection([{ op: 'modify', key: 'S1', text: 'x', evidence: [] }]).location.field).toBe('operations[0].key');
    expect(rejection([{ op: 'add', key: 'S2', text: 'x', evidence: [] }]).location.field).toBe('operations[0].key');
    expect(rejection([{ op: 'modify', key: 'G9', text: 'x', evidence: [] }]).location.field).toBe('operations[0].key');
    expect(rejection([{ op: 'remove', key: 'G9', evidence: [] }]).location.field).toBe('operations[0].key');
    expect(rejection([{ op: 'merge', key: 'G9', merge_from: ['G1'], text: 'x', evidence: [] }]).location.field).toBe('operations[0].key');
    expect(rejection([{ op: 'merge', key: 'G1', merge_from: ['G7'], text: 'x', evidence: [] }]).location.field).toBe('operations[0].merge_from[0]');
    expect(rejection([{ op: 'merge', key: 'G1', merge_from: ['G0'], text: 'x', evidence: [] }]).location.field).toBe('operations[0].merge_from[0]');
    expect(rejection([{ op: 'merge', key: 'G1', merge_from: [], text: 'x', evidence: [] }]).location.field).toBe('operations[0].merge_from');
    expect(rejection([{ op: 'add', key: 'NEW', text: '   ', evidence: [] }]).location.field).toBe('operations[0].text');
    expect(rejection([{ op: 'add', key: 'NEW', evidence: [] }]).location.field).toBe('operations[0].text');
    expect(rejection([{ op: 'add', key: 'NEW', text: 'BBU设备/安装到位×2，标签/完整', evidence: [] }]).message).toMatch(/Stage-A/);
    expect(rejection([{ op: 'modify', key: 'G1', text: '见 image_3 中的接地线', evidence: [] }]).location.field).toBe('operations[0].text');
    expect(rejection([{ op: 'add', key: 'NEW', text: '{"统计":[{"类别":"接地线","属性":["已连接"],"数量":1}]}', evidence: [] }]).location.field).toBe('operations[0].text');
  });

  it('rejects a plan that would leave the experiences empty', () => {
    const lone = { experiences: { G1: 'only rule' }, metadata: {} };
    expect(() => applyOperations(lone, [{ op: 'remove', key: 'G1', evidence: [] }], provenance)).toThrow(/empty/);
  });

  it('never empties the map and never touches G0 or S keys (property)', () => {
    const opArb: fc.Arbitrary<ReflectionOperation> = fc.oneof(
      fc.record({ op: fc.constant('add' as const), key: fc.constantFrom('NEW', 'G0', 'G1', 'S1'), text: fc.constantFrom('rule a', 'rule b', '', '线缆×3'), evidence: fc.array(fc.constantFrom('x::pass', 'y::fail')) }),
      fc.record({ op: fc.constant('modify' as const), key: fc.constantFrom('G1', 'G2', 'G3', 'G5', 'S1'), text: fc.constantFrom('rule c', 'rule d', ' '), evidence: fc.constant<string[]>([]) }),
      fc.record({ op: fc.constant('remove' as const), key: fc.constantFrom('G0', 'G1', 'G2', 'G3', 'G4', 'S1'), evidence: fc.constant<string[]>([]) }),
      fc.record({ op: fc.constant('merge' as const), key: fc.constantFrom('G1', 'G2', 'G3'), merge_from: fc.array(fc.constantFrom('G0', 'G1', 'G2', 'G3', 'G4', 'S1'), { maxLength: 2 }), text: fc.constantFrom('merged', ''), evidence: fc.constant<string[]>([]) }),
    );
    let applied = 0;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 6 }), (operations) => {
        let out;
        try {
          out = applyOperations(state, operations, provenance);
        } catch (error) {
          expect((error as StageBError).code).toBe('GUIDANCE_REJECTED_OPERATION');
          return;
        }
        applied++;
        expect(Object.keys(out.experiences).length).toBeGreaterThan(0);
        expect(out.experiences.G0).toBe(state.experiences.G0);
        expect(out.experiences.S1).toBe(state.experiences.S1);
        // Invariants keep the identity (and metadata) they had; every rule's id stays unique.
        expect(out.metadata.S1).toEqual(withRuleIds({ updated_at: provenance.updated_at, ...state }).metadata.S1);
        expect(new Set(Object.values(out.metadata).map((m) => m.rule_id)).size).toBe(Object.keys(out.experiences).length);
        for (const key of Object.keys(out.metadata)) expect(out.experiences).toHaveProperty(key);
        for (const text of Object.values(out.experiences)) expect(text.trim()).not.toBe('');
      }),
      { numRuns: 500 },
    );
    expect(applied).toBeGreaterThan(20);
  });
});
