import { StageBError } from '../errors';
import type { GuidanceState } from '../schemas/guidance';
import type { ReflectionOperation } from '../schemas/records';
import type { ReviewItem } from '../schemas/reviewQueue';
import { applyOperations, type ExperiencesAndMetadata } from './applyOperations';
import { compactExperiences } from './compactExperiences';

/**
 * The guidance after a person accepts a queued operation: its keys, named at the step
 * reflection proposed it, are found again by rule_id in the current guidance (which may
 * have been renumbered since), then the operation is applied and compacted like any
 * plan, with the text recorded as the reflection's and approved by `approver`. Throws
 * GUIDANCE_REJECTED_OPERATION when a rule it needs no longer exists (dismiss it instead)
 * or the operation is no longer valid.
 */
export function applyReviewItem(current: GuidanceState, item: Pick<ReviewItem, 'operation' | 'rule_ids' | 'reflection_id' | 'item_id'>, approver: string | null, now: string): ExperiencesAndMetadata {
  const keyById = new Map(Object.entries(current.metadata).filter(([key]) => key in current.experiences).map(([key, meta]) => [meta.rule_id, key]));
  const remap = (key: string, field: string): string => {
    const ruleId = item.rule_ids[key];
    if (ruleId === undefined) return key;
    const now = keyById.get(ruleId);
    if (now === undefined) {
      throw new StageBError('GUIDANCE_REJECTED_OPERATION', `review item ${item.item_id}: rule ${ruleId} (${key} when proposed) no longer exists; dismiss the item instead`, { field });
    }
    return now;
  };
  const op = item.operation;
  const operation: ReflectionOperation = {
    ...op,
    evidence: [...op.evidence],
    key: op.op === 'add' ? op.key : remap(op.key, 'operation.key'),
    ...(op.merge_from ? { merge_from: op.merge_from.map((key, i) => remap(key, `operation.merge_from[${i}]`)) } : {}),
  };
  return compactExperiences(applyOperations(current, [operation], { reflection_id: item.reflection_id, updated_at: now, origin: 'reflection', approved_by: approver }));
}
