import type { SelectionRecord, TrajectoryRecord, WarningCode } from '../../../shared/schemas/records';

/** One group of a batch as reflection sees it: the selection and all K candidates. */
export type BundleGroup = {
  selection: SelectionRecord;
  candidates: TrajectoryRecord[];
};

export type EligibilityCondition = 'selected_mismatch' | 'mixed_label_match' | 'flagged';

export type Eligibility = {
  eligible: boolean;
  ineligible_reason: 'non_conflict_bundle' | null;
  /** Which of the spec's conditions (a), (b), (c) hold. */
  conditions: EligibilityCondition[];
  /** Groups that may be used as learning evidence (ticket_keys, batch order). */
  learnable: string[];
  /** Groups on the need_review queue: flagged, never learnable. */
  need_review: string[];
};

/**
 * Warning codes that stand for the spec's `conflict_flag` / `needs_manual_review`:
 * - need_review: the group is on the label-noise queue (needs a human);
 * - candidates_disagree_with_label: every well-formed candidate contradicts the label
 *   (the spec's conflict flag; training-free spec condition "every candidate disagrees").
 */
export const CONFLICT_WARNINGS: readonly WarningCode[] = ['need_review', 'candidates_disagree_with_label'];

/**
 * Whether a batch (the "bundle") is worth a reflection call, following
 * stage-b-three-step-reflection literally. The bundle is eligible when at least one of:
 *   (a) selected_mismatch: a learnable group's selected candidate has label_match=false
 *       (a null selection — all candidates malformed — is not a mismatch, there is no verdict);
 *   (b) mixed_label_match: the non-null label_match values of ALL candidates of the learnable
 *       groups, pooled over the bundle, contain both true and false. This covers both
 *       "partial-correct" readings — some candidates of one group right and others wrong, and
 *       some groups right while others are wrong — because the spec says "within the bundle";
 *   (c) flagged: a candidate or selection of ANY group (need_review groups included) carries a
 *       CONFLICT_WARNINGS code, or the group is on the need_review queue (needReviewKeys).
 * Need-review groups are suspected label noise: they are excluded from (a) and (b) and from
 * `learnable`, so they can only make a bundle eligible through (c) and never feed the
 * reflection prompt. Unlabelled groups have label_match=null and therefore only count via (c).
 * Otherwise: not eligible, ineligible_reason 'non_conflict_bundle', and the caller makes no LLM call.
 */
export function evaluateEligibility(groups: readonly BundleGroup[], needReviewKeys: ReadonlySet<string>): Eligibility {
  const learnable: string[] = [];
  const needReview: string[] = [];
  let selectedMismatch = false;
  let sawMatch = false;
  let sawMismatch = false;
  let flagged = false;

  for (const group of groups) {
    const key = group.selection.ticket_key;
    const onQueue =
      needReviewKeys.has(key) ||
      group.selection.warnings.includes('need_review') ||
      group.candidates.some((c) => c.warnings.includes('need_review'));
    const hasConflictFlag =
      group.selection.warnings.some((w) => CONFLICT_WARNINGS.includes(w)) ||
      group.candidates.some((c) => c.warnings.some((w) => CONFLICT_WARNINGS.includes(w)));
    if (onQueue || hasConflictFlag) flagged = true;
    if (onQueue) {
      needReview.push(key);
      continue;
    }
    learnable.push(key);
    if (group.selection.signals.label_match === false) selectedMismatch = true;
    for (const candidate of group.candidates) {
      if (candidate.signals.label_match === true) sawMatch = true;
      else if (candidate.signals.label_match === false) sawMismatch = true;
    }
    // A selection without trajectories still says something about the bundle.
    if (group.candidates.length === 0) {
      if (group.selection.signals.label_match === true) sawMatch = true;
      else if (group.selection.signals.label_match === false) sawMismatch = true;
    }
  }

  const conditions: EligibilityCondition[] = [];
  if (selectedMismatch) conditions.push('selected_mismatch');
  if (sawMatch && sawMismatch) conditions.push('mixed_label_match');
  if (flagged) conditions.push('flagged');
  const eligible = conditions.length > 0;
  return {
    eligible,
    ineligible_reason: eligible ? null : 'non_conflict_bundle',
    conditions,
    learnable,
    need_review: needReview,
  };
}

/** Groups the batch's trajectories by ticket_key under their selections, in selection order. */
export function buildBundle(selections: readonly SelectionRecord[], trajectories: readonly TrajectoryRecord[]): BundleGroup[] {
  const byKey = new Map<string, TrajectoryRecord[]>();
  for (const t of trajectories) {
    const list = byKey.get(t.ticket_key) ?? [];
    list.push(t);
    byKey.set(t.ticket_key, list);
  }
  return selections.map((selection) => ({
    selection,
    candidates: (byKey.get(selection.ticket_key) ?? [])
      .filter((t) => t.epoch === selection.epoch)
      .sort((a, b) => a.candidate_index - b.candidate_index),
  }));
}
