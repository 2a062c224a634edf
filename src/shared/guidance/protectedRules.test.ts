import { describe, expect, it } from 'vitest';
import { GuidanceStateSchema } from '../schemas/guidance';
import { ProtectedRulesSchema } from '../schemas/runConfig';
import { splitProtectedOperations, protectionReason } from './protectedRules';

const state = GuidanceStateSchema.parse({
  step: 3,
  updated_at: '2026-01-01T00:00:00.000Z',
  experiences: { G0: 'checklist', G1: 'engine rule', G2: 'annotator rule', G3: 'approved rule', G4: 'initial rule' },
  metadata: {
    G1: { origin: 'reflection', reflection_id: 'r1', updated_at: '2026-01-01T00:00:00.000Z' },
    G2: { origin: 'annotator', author: 'Li Wei', updated_at: '2026-01-01T00:00:00.000Z' },
    G3: { origin: 'reflection', reflection_id: 'r2', approved_by: 'Zhang', updated_at: '2026-01-01T00:00:00.000Z' },
    G4: { origin: 'initial', updated_at: '2026-01-01T00:00:00.000Z' },
  },
});
const defaults = ProtectedRulesSchema.parse(undefined);

describe('protected rules', () => {
  it('protects G0 and rules whose latest author is a person by default, and says why', () => {
    expect(protectionReason('G0', state.metadata.G0, defaults)).toMatch(/mission checklist/);
    expect(protectionReason('G1', state.metadata.G1, defaults)).toBeNull();
    expect(protectionReason('G2', state.metadata.G2, defaults)).toMatch(/Li Wei/);
    expect(protectionReason('G3', state.metadata.G3, defaults)).toMatch(/Zhang/);
    expect(protectionReason('G4', state.metadata.G4, defaults)).toBeNull();
  });

  it('is configurable', () => {
    const none = ProtectedRulesSchema.parse({ mission_checklist: false, person_authored: false });
    expect(['G0', 'G1', 'G2', 'G3'].map((k) => protectionReason(k, state.metadata[k], none))).toEqual([null, null, null, null]);
    const byId = ProtectedRulesSchema.parse({ person_authored: false, rule_ids: [state.metadata.G4.rule_id] });
    expect(protectionReason('G4', state.metadata.G4, byId)).toMatch(/rule_ids/);
  });

  it('queues every operation that modifies, merges or removes a protected rule, and keeps the rest', () => {
    const { open, queued } = splitProtectedOperations(
      state,
      [
        { op: 'add', key: 'G5', text: 'new', evidence: [] },
        { op: 'modify', key: 'G1', text: 'x', evidence: [] },
        { op: 'modify', key: 'G0', text: 'y', evidence: [] },
        { op: 'remove', key: 'G2', evidence: [] },
        { op: 'merge', key: 'G1', merge_from: ['G3'], text: 'z', evidence: [] },
        { op: 'remove', key: 'G4', evidence: [] },
      ],
      defaults,
    );
    expect(open.map((op) => `${op.op} ${op.key}`)).toEqual(['add G5', 'modify G1', 'remove G4']);
    expect(queued.map((q) => [q.operation.op, q.targets.map((t) => t.key)])).toEqual([
      ['modify', ['G0']],
      ['remove', ['G2']],
      ['merge', ['G3']],
    ]);
    expect(queued[1].targets[0].rule_id).toBe(state.metadata.G2.rule_id);
  });
});
