import type { GuidanceState, GuidanceWriteInfo } from '../../../shared/schemas/guidance';
import { changedRules, type RuleChange } from '../../../shared/guidance/diffGuidanceByRuleId';

/**
 * What an open editor tells its reader when the guidance moved under it: from which
 * step to which, who made the newest step, and which rules changed (matched by rule_id,
 * so a renumbering reads as a rename, not as a change plus a removal).
 */
export type GuidanceNotice = {
  /** The step the reader last saw (the first unacknowledged move starts here). */
  fromStep: number;
  toStep: number;
  /** The state the reader last saw, kept so later moves diff against it too. */
  seen: GuidanceState;
  latest: GuidanceState;
  /** Who made `toStep`, in words. */
  writer: string;
  /** How many steps the guidance moved since the reader last looked. */
  steps: number;
  changes: RuleChange[];
};

/** Who wrote a step, in words; a file whose step differs from written_by.step was edited by hand afterwards. */
export function describeWriter(state: Pick<GuidanceState, 'step' | 'written_by'>): string {
  const by: GuidanceWriteInfo | undefined = state.written_by;
  if (!by || by.step !== state.step) return 'an unknown writer (the file was changed outside the workbench)';
  const person = by.author ?? 'an unnamed annotator';
  const where = [by.epoch !== null ? `epoch ${by.epoch}` : null, by.batch_index !== null ? `batch ${by.batch_index}` : null].filter(Boolean).join(', ');
  const reflection = by.reflection_id ? `reflection ${by.reflection_id}${where ? ` (${where})` : ''}` : null;
  switch (by.kind) {
    case 'reflection':
      return reflection ?? `reflection${where ? ` (${where})` : ''}`;
    case 'approval':
      return `${person}, approving ${reflection ?? 'a queued proposal'}${by.review_item_id ? ` [${by.review_item_id}]` : ''}`;
    case 'rollback':
      return `${person}, rolling back to ${by.restored_snapshot ?? 'a snapshot'}${by.restored_step !== null ? ` (step ${by.restored_step})` : ''}`;
    case 'merge':
      return `${person} (merge)`;
    case 'initial':
      return 'the initial guidance';
    default:
      return person;
  }
}

/**
 * The notice for a move from `seen` to `next`, folded into the notice already shown
 * (its starting point stays, so two quick moves read as one change since the reader
 * last looked). null when nothing moved.
 */
export function noticeFor(previous: GuidanceNotice | null, seen: GuidanceState, next: GuidanceState): GuidanceNotice | null {
  const base = previous?.seen ?? seen;
  if (next.step === seen.step && !previous) return null;
  return {
    fromStep: base.step,
    toStep: next.step,
    seen: base,
    latest: next,
    writer: describeWriter(next),
    steps: Math.max(1, next.step - base.step),
    changes: changedRules(base, next),
  };
}

/** The key a rule has in a state, by rule_id. */
export function keyOfRule(state: Pick<GuidanceState, 'experiences' | 'metadata'>, ruleId: string): string | null {
  for (const [key, meta] of Object.entries(state.metadata)) if (meta.rule_id === ruleId && key in state.experiences) return key;
  return null;
}

/** One line per changed rule: "G1 modified", "G3 → G2 renamed", "G2 merged into G1". */
export function describeChange(change: RuleChange, after?: Pick<GuidanceState, 'experiences' | 'metadata'>): string {
  const before = change.before?.key;
  const now = change.after?.key;
  const keys = before && now && before !== now ? `${before} → ${now}` : (now ?? before ?? change.rule_id);
  if (change.kind === 'merged') return `${keys} merged into ${(after && change.merged_into && keyOfRule(after, change.merged_into)) ?? change.merged_into}`;
  if (change.kind === 'modified' && change.renamed) return `${keys} modified (renumbered)`;
  return `${keys} ${change.kind}`;
}
