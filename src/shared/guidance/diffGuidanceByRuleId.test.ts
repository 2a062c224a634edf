import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GuidanceStateSchema, type GuidanceState } from '../schemas/guidance';
import type { ReflectionOperation } from '../schemas/records';
import { applyOperations } from './applyOperations';
import { carryRuleMetadata } from './carryRuleMetadata';
import { compactExperiences } from './compactExperiences';
import { diffGuidanceByRuleId } from './diffGuidanceByRuleId';
import { sortExperienceKeys } from './sortExperienceKeys';

const T0 = '2026-01-01T00:00:00.000Z';

function load(value: unknown): GuidanceState {
  return GuidanceStateSchema.parse(JSON.parse(JSON.stringify(value)));
}

const initial = load({
  step: 0,
  updated_at: T0,
  experiences: { G0: '检查接地线。', G1: '接地线松动判为不通过。', G2: '线径不足判为不通过。', G3: '标签缺失判为不通过。', S1: '无照片不放行。' },
});

/** Deletes `key` and renumbers the learned keys densely, as the editor or compaction would. */
function removeAndRenumber(state: GuidanceState, key: string): Record<string, string> {
  const kept = sortExperienceKeys(Object.keys(state.experiences)).filter((k) => k !== key);
  const out: Record<string, string> = {};
  let next = 1;
  for (const k of kept) out[/^G[1-9]/.test(k) ? `G${next++}` : k] = state.experiences[k];
  return out;
}

describe('diffGuidanceByRuleId', () => {
  it('shows the removal of G1 as G1 removed and G2 → G1, G3 → G2 renamed, not as changes', () => {
    const after = { experiences: removeAndRenumber(initial, 'G1'), metadata: {} as GuidanceState['metadata'] };
    after.metadata = carryRuleMetadata(initial, after, { origin: 'annotator', author: 'ann', updated_at: T0 });
    const changes = diffGuidanceByRuleId(initial, after);
    const byKind = (kind: string) => changes.filter((c) => c.kind === kind).map((c) => `${c.before?.key ?? '-'}→${c.after?.key ?? '-'}`);
    expect(byKind('removed')).toEqual(['G1→-']);
    expect(byKind('renamed')).toEqual(['G2→G1', 'G3→G2']);
    expect(byKind('modified')).toEqual([]);
    expect(byKind('unchanged')).toEqual(['G0→G0', 'S1→S1']);
  });

  it('shows a merge as the target modified and the source merged into it', () => {
    const merged = applyOperations(initial, [{ op: 'merge', key: 'G1', merge_from: ['G2'], text: '接地线松动或线径不足判为不通过。', evidence: [] }], { reflection_id: 'r1', updated_at: T0 });
    const compacted = compactExperiences(merged);
    const changes = diffGuidanceByRuleId(initial, compacted);
    const g2 = changes.find((c) => c.before?.key === 'G2')!;
    expect(g2.kind).toBe('merged');
    expect(g2.merged_into).toBe(initial.metadata.G1.rule_id);
    expect(changes.find((c) => c.rule_id === initial.metadata.G1.rule_id)!.kind).toBe('modified');
    expect(changes.find((c) => c.rule_id === initial.metadata.G3.rule_id)).toMatchObject({ kind: 'renamed', before: { key: 'G3' }, after: { key: 'G2' } });
  });

  it('gives files without ids the same ids on every load, and ids by text for learned rules', () => {
    expect(load(initial).metadata).toEqual(initial.metadata);
    const renumbered = load({ step: 1, updated_at: T0, experiences: removeAndRenumber(initial, 'G1') });
    expect(renumbered.metadata.G1.rule_id).toBe(initial.metadata.G2.rule_id);
    const ids = Object.values(initial.metadata).map((m) => m.rule_id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

// ---------------------------------------------------------------- property: identity over random histories

type Command =
  | { kind: 'plan'; operations: ReflectionOperation[] }
  | { kind: 'save_renumber'; pick: number }
  | { kind: 'save_edit'; pick: number; text: string }
  | { kind: 'save_add'; text: string }
  | { kind: 'rollback'; pick: number }
  | { kind: 'reload' };

const textArb = fc.constantFrom('规则甲', '规则乙', '规则丙', '规则丁', '规则戊', '规则己', ' 规则甲 ');
const keyArb = fc.constantFrom('G0', 'G1', 'G2', 'G3', 'G4', 'G5');
const opArb: fc.Arbitrary<ReflectionOperation> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), key: fc.constant('NEW'), text: textArb, evidence: fc.constant<string[]>([]) }),
  fc.record({ op: fc.constant('modify' as const), key: keyArb, text: textArb, evidence: fc.constant<string[]>([]) }),
  fc.record({ op: fc.constant('remove' as const), key: keyArb, evidence: fc.constant<string[]>([]) }),
  fc.record({ op: fc.constant('merge' as const), key: keyArb, merge_from: fc.array(keyArb, { minLength: 1, maxLength: 2 }), text: textArb, evidence: fc.constant<string[]>([]) }),
);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('plan' as const), operations: fc.array(opArb, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('save_renumber' as const), pick: fc.nat(10) }),
  fc.record({ kind: fc.constant('save_edit' as const), pick: fc.nat(10), text: textArb }),
  fc.record({ kind: fc.constant('save_add' as const), text: textArb }),
  fc.record({ kind: fc.constant('rollback' as const), pick: fc.nat(10) }),
  fc.record({ kind: fc.constant('reload' as const) }),
);

function ids(state: Pick<GuidanceState, 'metadata' | 'experiences'>): string[] {
  return Object.keys(state.experiences).map((key) => state.metadata[key].rule_id);
}

describe('rule identity (property)', () => {
  it('random plans, renumberings, edits, merges, rollbacks and reloads keep rule_ids unique and stable', () => {
    let steps = 0;
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 12 }), (commands) => {
        const history: GuidanceState[] = [initial];
        let current = initial;
        const everSeen = new Set(ids(initial));
        commands.forEach((command, index) => {
          const at = `2026-01-01T00:${String(index).padStart(2, '0')}:00.000Z`;
          let next: Pick<GuidanceState, 'experiences' | 'metadata'> | null = null;
          const learned = sortExperienceKeys(Object.keys(current.experiences)).filter((k) => /^G[1-9]/.test(k));
          switch (command.kind) {
            case 'plan': {
              try {
                next = compactExperiences(applyOperations(current, command.operations, { reflection_id: `r${index}`, updated_at: at }));
              } catch {
                return; // a plan the rules refuse changes nothing
              }
              // A rule that leaves was removed or merged by the plan, or folded into a duplicate.
              const targets = new Set(command.operations.flatMap((op) => (op.op === 'remove' ? [op.key] : op.op === 'merge' ? (op.merge_from ?? []) : [])).map((k) => current.metadata[k]?.rule_id));
              const mergedNow = new Set(Object.values(next.metadata).flatMap((m) => m.merged_rule_ids));
              for (const id of ids(current)) if (!ids(next).includes(id)) expect(targets.has(id) || mergedNow.has(id)).toBe(true);
              // A modified rule keeps its id.
              for (const op of command.operations) {
                if (op.op !== 'modify') continue;
                const id = current.metadata[op.key]?.rule_id;
                if (id && !targets.has(id) && !mergedNow.has(id)) expect(ids(next)).toContain(id);
              }
              break;
            }
            case 'save_renumber': {
              if (learned.length === 0) return;
              const experiences = removeAndRenumber(current, learned[command.pick % learned.length]);
              next = { experiences, metadata: carryRuleMetadata(current, { experiences }, { origin: 'annotator', author: 'ann', updated_at: at }) };
              const changes = diffGuidanceByRuleId(current, next);
              expect(changes.filter((c) => c.kind === 'removed')).toHaveLength(1);
              expect(changes.filter((c) => c.kind === 'added' || c.kind === 'modified')).toEqual([]);
              break;
            }
            case 'save_edit': {
              const keys = Object.keys(current.experiences).filter((k) => k.startsWith('G'));
              const key = keys[command.pick % keys.length];
              if (Object.entries(current.experiences).some(([k, t]) => k !== key && t.trim() === command.text.trim())) return;
              const experiences = { ...current.experiences, [key]: command.text };
              next = { experiences, metadata: carryRuleMetadata(current, { experiences }, { origin: 'annotator', author: 'ann', updated_at: at }) };
              expect(next.metadata[key].rule_id).toBe(current.metadata[key].rule_id);
              break;
            }
            case 'save_add': {
              if (Object.values(current.experiences).some((t) => t.trim() === command.text.trim())) return;
              const highest = Math.max(0, ...learned.map((k) => Number(k.slice(1))));
              const experiences = { ...current.experiences, [`G${highest + 1}`]: command.text };
              next = { experiences, metadata: carryRuleMetadata(current, { experiences }, { origin: 'annotator', author: 'ann', updated_at: at }) };
              expect(everSeen.has(next.metadata[`G${highest + 1}`].rule_id)).toBe(false);
              break;
            }
            case 'rollback': {
              const target = history[command.pick % history.length];
              next = { experiences: target.experiences, metadata: target.metadata };
              expect(ids(next)).toEqual(ids(target));
              break;
            }
            case 'reload':
              next = current;
              break;
          }
          const state = load({ step: current.step + 1, updated_at: at, ...next });
          expect(ids(state)).toEqual(ids(next));
          const all = ids(state);
          expect(new Set(all).size).toBe(all.length);
          for (const id of all) everSeen.add(id);
          history.push(state);
          current = state;
          steps++;
        });
      }),
      { numRuns: 300 },
    );
    expect(steps).toBeGreaterThan(300);
  });
});
