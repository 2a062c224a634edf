import type { ExperienceMeta } from '../schemas/guidance';
import { sortExperienceKeys } from './sortExperienceKeys';

export type RuleSide = { key: string; text: string; meta: ExperienceMeta };

export type RuleChange = {
  rule_id: string;
  /**
   * added / removed; merged: removed by folding into `merged_into`; modified: the text
   * changed (the key may have moved too, see `renamed`); renamed: only the key moved
   * (a renumbering, G2 → G1); unchanged.
   */
  kind: 'added' | 'removed' | 'merged' | 'modified' | 'renamed' | 'unchanged';
  before: RuleSide | null;
  after: RuleSide | null;
  renamed: boolean;
  merged_into: string | null;
};

type Resolved = { experiences: Readonly<Record<string, string>>; metadata: Readonly<Record<string, ExperienceMeta>> };

function sides(state: Resolved): Map<string, RuleSide> {
  const out = new Map<string, RuleSide>();
  for (const key of sortExperienceKeys(Object.keys(state.experiences))) {
    const meta = state.metadata[key];
    if (meta) out.set(meta.rule_id, { key, text: state.experiences[key], meta });
  }
  return out;
}

/**
 * How guidance changed between two states, rule by rule, matched by rule_id rather than
 * by key: the dense G-keys are renumbered after removals, so comparing keys would show a
 * removal of G1 as "G1 modified, G2 removed". Rules in `after` come first in its key
 * order, then the rules that left, in `before`'s key order. Both states must carry
 * rule ids (anything parsed through GuidanceStateSchema does).
 */
export function diffGuidanceByRuleId(before: Resolved, after: Resolved): RuleChange[] {
  const was = sides(before);
  const now = sides(after);
  const changes: RuleChange[] = [];
  const mergedInto = new Map<string, string>();
  for (const [id, side] of now) for (const merged of side.meta.merged_rule_ids) if (!now.has(merged)) mergedInto.set(merged, id);
  for (const [id, side] of now) {
    const old = was.get(id) ?? null;
    if (!old) {
      changes.push({ rule_id: id, kind: 'added', before: null, after: side, renamed: false, merged_into: null });
      continue;
    }
    const renamed = old.key !== side.key;
    const kind = old.text !== side.text ? 'modified' : renamed ? 'renamed' : 'unchanged';
    changes.push({ rule_id: id, kind, before: old, after: side, renamed, merged_into: null });
  }
  for (const [id, side] of was) {
    if (now.has(id)) continue;
    const into = mergedInto.get(id) ?? null;
    changes.push({ rule_id: id, kind: into ? 'merged' : 'removed', before: side, after: null, renamed: false, merged_into: into });
  }
  return changes;
}

/** Only the rules that changed (everything but 'unchanged'). */
export function changedRules(before: Resolved, after: Resolved): RuleChange[] {
  return diffGuidanceByRuleId(before, after).filter((change) => change.kind !== 'unchanged');
}
