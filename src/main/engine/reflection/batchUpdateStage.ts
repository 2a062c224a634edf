import type { GuidanceState } from '../../../shared/schemas/guidance';
import type { ReflectionOperation } from '../../../shared/schemas/records';
import { applyOperations } from '../../../shared/guidance/applyOperations';
import { compactExperiences } from '../../../shared/guidance/compactExperiences';
import { normalizeExperienceText } from '../../../shared/guidance/normalizeExperienceText';
import { planFingerprint } from '../../../shared/guidance/planFingerprint';
import { learnedKeyIndex } from '../../../shared/guidance/sortExperienceKeys';
import type { BatchUpdateArtifact } from './reflectionArtifacts';

export type DroppedOperation = { operation: ReflectionOperation; why: string };

/**
 * Merges the critique's operations into one plan (the batch's single proposal):
 * - an exact repeat (same op, key, normalised text and sources) is folded into the first,
 *   which inherits its evidence;
 * - an `add` whose text already exists in the guidance, or repeats an earlier add, is dropped;
 * - a second edit of a key an earlier operation already modified, merged or removed is
 *   dropped (the first one wins), so the plan never contradicts itself;
 * - `add` keys are renumbered to the keys applyOperations will actually assign.
 */
export function mergeOperations(
  operations: readonly ReflectionOperation[],
  experiences: Readonly<Record<string, string>>,
): { operations: ReflectionOperation[]; dropped: DroppedOperation[] } {
  const kept: ReflectionOperation[] = [];
  const dropped: DroppedOperation[] = [];
  const touched = new Set<string>();
  const existingTexts = new Set(Object.values(experiences).map(normalizeExperienceText));
  const addedTexts = new Set<string>();
  const signatures = new Map<string, ReflectionOperation>();
  let nextAdd = Math.max(0, ...Object.keys(experiences).map((k) => learnedKeyIndex(k) ?? 0)) + 1;

  for (const original of operations) {
    const op: ReflectionOperation = { ...original, evidence: [...original.evidence], ...(original.merge_from ? { merge_from: [...original.merge_from] } : {}) };
    const text = op.text === undefined ? null : normalizeExperienceText(op.text);
    const signature = JSON.stringify([op.op, op.op === 'add' ? '' : op.key, text, op.merge_from ?? []]);
    const same = signatures.get(signature);
    if (same) {
      same.evidence = [...new Set([...same.evidence, ...op.evidence])];
      dropped.push({ operation: original, why: 'repeats an earlier operation' });
      continue;
    }
    if (op.op === 'add') {
      if (text !== null && existingTexts.has(text)) {
        dropped.push({ operation: original, why: 'adds a text the guidance already holds' });
        continue;
      }
      if (text !== null && addedTexts.has(text)) {
        dropped.push({ operation: original, why: 'adds the same text as an earlier add' });
        continue;
      }
      if (text !== null) addedTexts.add(text);
      op.key = `G${nextAdd++}`;
    } else {
      const keys = [op.key, ...(op.op === 'merge' ? op.merge_from ?? [] : [])];
      const clash = keys.find((k) => touched.has(k));
      if (clash) {
        dropped.push({ operation: original, why: `${clash} is already changed by an earlier operation of this plan` });
        continue;
      }
      for (const k of keys) touched.add(k);
    }
    signatures.set(signature, op);
    kept.push(op);
  }
  return { operations: kept, dropped };
}

/**
 * Stage 3 (batch update): merge the operations, then compute the preview guidance in
 * memory — applyOperations (all-or-nothing; throws GUIDANCE_REJECTED_OPERATION) followed
 * by compactExperiences (dedupe, renumber). Nothing is written to guidance here.
 */
export function buildBatchUpdate(input: {
  current: GuidanceState;
  operations: readonly ReflectionOperation[];
  uncertaintyNote: string | null;
  reflectionId: string;
  now: string;
  groupIdByTicketKey: ReadonlyMap<string, string>;
}): Pick<BatchUpdateArtifact, 'plan' | 'preview_guidance' | 'key_map'> {
  const merged = mergeOperations(input.operations, input.current.experiences);
  const applied = applyOperations(input.current, merged.operations, {
    reflection_id: input.reflectionId,
    updated_at: input.now,
    origin: 'reflection',
  });
  const compacted = compactExperiences(applied);
  const evidenceKeys = [...new Set(merged.operations.flatMap((op) => op.evidence))];
  return {
    plan: {
      reflection_id: input.reflectionId,
      plan_fingerprint: planFingerprint(merged.operations, input.reflectionId),
      operations: merged.operations,
      evidence_group_ids: [...new Set(evidenceKeys.map((k) => input.groupIdByTicketKey.get(k) ?? k))],
      uncertainty_note: input.uncertaintyNote,
      dropped: merged.dropped,
    },
    preview_guidance: { experiences: compacted.experiences, metadata: compacted.metadata },
    key_map: compacted.keyMap,
  };
}
