import { describe, expect, it } from 'vitest';
import { StageBError } from '../../../shared/errors';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import { ProtectedRulesSchema } from '../../../shared/schemas/runConfig';
import { buildBatchUpdate, mergeOperations, planBatchUpdate, withRuleTimes } from './batchUpdateStage';

const defaults = ProtectedRulesSchema.parse(undefined);

const experiences = { G0: '检查接地线', G1: '接地线走线整齐', G2: '接地端子紧固' };

describe('mergeOperations', () => {
  it('folds repeats, drops adds of existing text and second edits of a key, renumbers adds', () => {
    const { operations, dropped } = mergeOperations(
      [
        { op: 'add', key: 'G3', text: '新规则 A', evidence: ['a::fail'] },
        { op: 'add', key: 'G3', text: ' 新规则  A ', evidence: ['b::fail'] },
        { op: 'add', key: 'G3', text: '接地线走线整齐', evidence: ['a::fail'] },
        { op: 'add', key: 'G3', text: '新规则 B', evidence: ['a::fail'] },
        { op: 'modify', key: 'G1', text: '改写一', evidence: ['a::fail'] },
        { op: 'remove', key: 'G1', evidence: ['b::fail'] },
        { op: 'merge', key: 'G0', text: '合并', merge_from: ['G2'], evidence: ['a::fail'] },
        { op: 'modify', key: 'G2', text: '改写二', evidence: ['a::fail'] },
      ],
      experiences,
    );
    expect(operations).toEqual([
      { op: 'add', key: 'G3', text: '新规则 A', evidence: ['a::fail', 'b::fail'] },
      { op: 'add', key: 'G4', text: '新规则 B', evidence: ['a::fail'] },
      { op: 'modify', key: 'G1', text: '改写一', evidence: ['a::fail'] },
      { op: 'merge', key: 'G0', text: '合并', merge_from: ['G2'], evidence: ['a::fail'] },
    ]);
    expect(dropped.map((d) => d.why)).toEqual([
      'repeats an earlier operation',
      'adds a text the guidance already holds',
      'G1 is already changed by an earlier operation of this plan',
      'G2 is already changed by an earlier operation of this plan',
    ]);
  });
});

describe('buildBatchUpdate', () => {
  const current: GuidanceState = { step: 3, updated_at: '2026-01-01T00:00:00Z', experiences, metadata: {} };

  it('previews the compacted guidance with provenance and leaves the input untouched', () => {
    const snapshot = JSON.stringify(current);
    const update = buildBatchUpdate({
      current,
      operations: [
        { op: 'remove', key: 'G1', evidence: ['a::fail'] },
        { op: 'add', key: 'G3', text: '端子锈蚀判定不通过', rationale: '漏检锈蚀', evidence: ['a::fail'] },
      ],
      uncertaintyNote: null,
      reflectionId: 'refl-x',
      now: '2026-01-02T00:00:00Z',
      groupIdByTicketKey: new Map([['a::fail', 'a']]),
      protectedRules: defaults,
    });
    expect(JSON.stringify(current)).toBe(snapshot);
    expect(update.preview_guidance.experiences).toEqual({ G0: '检查接地线', G1: '接地端子紧固', G2: '端子锈蚀判定不通过' });
    expect(update.preview_guidance.metadata.G2).toMatchObject({ origin: 'reflection', reflection_id: 'refl-x', sources: ['a::fail'], rationale: '漏检锈蚀' });
    expect(update.key_map).toMatchObject({ G0: 'G0', G2: 'G1', G3: 'G2' });
    expect(update.plan.evidence_group_ids).toEqual(['a']);
    expect(update.plan.plan_fingerprint).toMatch(/^plan-/);
  });

  it('throws GUIDANCE_REJECTED_OPERATION for a forbidden plan', () => {
    expect(() => buildBatchUpdate({
      current,
      operations: [{ op: 'remove', key: 'G0', evidence: [] }],
      uncertaintyNote: null,
      reflectionId: 'r',
      now: 'n',
      groupIdByTicketKey: new Map(),
      protectedRules: defaults,
    })).toThrow(StageBError);
  });

  it('plans without wall-clock time; withRuleTimes dates only the rules the plan wrote, whatever their new key', () => {
    const input = {
      current,
      operations: [
        { op: 'remove' as const, key: 'G1', evidence: ['a::fail'] },
        { op: 'modify' as const, key: 'G2', text: '接地端子紧固无锈蚀', evidence: ['a::fail'] },
        { op: 'add' as const, key: 'G3', text: '端子锈蚀判定不通过', evidence: ['a::fail'] },
      ],
      uncertaintyNote: null,
      reflectionId: 'refl-t',
      groupIdByTicketKey: new Map<string, string>(),
      protectedRules: defaults,
    };
    const planned = planBatchUpdate(input);
    expect(JSON.stringify(planned)).not.toContain('updated_at');
    const timed = withRuleTimes(current, planned.preview_guidance, '2026-03-03T00:00:00Z');
    // G0 untouched keeps its time; G2 (modified) became G1, the add became G2: both written now.
    expect(timed.experiences).toEqual({ G0: '检查接地线', G1: '接地端子紧固无锈蚀', G2: '端子锈蚀判定不通过' });
    expect(Object.fromEntries(Object.entries(timed.metadata).map(([k, m]) => [k, m.updated_at]))).toEqual({
      G0: '2026-01-01T00:00:00Z',
      G1: '2026-03-03T00:00:00Z',
      G2: '2026-03-03T00:00:00Z',
    });
    // buildBatchUpdate is the two together, as the apply writes it.
    expect(buildBatchUpdate({ ...input, now: '2026-03-03T00:00:00Z' }).preview_guidance).toEqual(timed);
  });
});
