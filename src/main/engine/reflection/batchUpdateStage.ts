import type { GuidanceState } from '../../../shared/schemas/guidance';
import { canonicalJson } from '../../../shared/guidance/canonicalJson';
import type { ReflectionOperation } from '../../../shared/schemas/records';
import { applyOperations } from '../../../shared/guidance/applyOperations';
import { compactExperiences } from '../../../shared/guidance/compactExperiences';
import { normalizeExperienceText } from '../../../shared/guidance/normalizeExperienceText';
import { planFingerprint } from '../../../shared/guidance/planFingerprint';
import { learnedKeyIndex } from '../../../shared/guidance/sortExperienceKeys';
import type { ProtectedRules } from '../../../shared/schemas/runConfig';
import { StageBError } from '../../../shared/errors';
import { protectionReason, splitProtectedOperations } from '../../../shared/guidance/protectedRules';
import { withRuleIds } from '../../../shared/guidance/withRuleIds';
import type { ExperienceMeta } from '../../../shared/schemas/guidance';
import { guidanceContentHashWithoutTimes } from '../../../shared/guidance/guidanceContentHash';
import { BatchUpdateArtifactSchema, cacheArtifactPath, reflectionCacheName, type BatchUpdateArtifact, type PreviewGuidance, type UntimedRuleMeta } from './reflectionArtifacts';
import { defineReflectionStage } from './runCachedStage';
import { summaryStage } from './summaryStage';
import { critiqueStage } from './critiqueStage';

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
 * Stage 3 (batch update): merge the operations, set aside those that touch a protected
 * rule (reflection.protected_rules: they go to the review queue, never applied here),
 * and compute in memory the preview guidance of the rest — applyOperations (all-or-
 * nothing; throws GUIDANCE_REJECTED_OPERATION) then compactExperiences (dedupe,
 * renumber). The whole proposal is validated and previewed too (proposed_guidance), so
 * a decision that applies nothing still shows what was proposed. Nothing is written.
 *
 * The previews carry no wall-clock time (they are cached, and two identical runs must
 * cache the same bytes): withRuleTimes stamps the rules it changed when the plan is written.
 */
export function planBatchUpdate(input: {
  current: GuidanceState;
  operations: readonly ReflectionOperation[];
  uncertaintyNote: string | null;
  reflectionId: string;
  groupIdByTicketKey: ReadonlyMap<string, string>;
  protectedRules: ProtectedRules;
}): Pick<BatchUpdateArtifact, 'plan' | 'preview_guidance' | 'proposed_guidance' | 'key_map'> {
  const merged = mergeOperations(input.operations, input.current.experiences);
  // applyOperations stamps the rules it touches with this time; the previews drop every rule's time (untimed).
  const provenance = { reflection_id: input.reflectionId, updated_at: input.current.updated_at, origin: 'reflection' as const };
  const proposed = compactExperiences(applyOperations(input.current, merged.operations, provenance));
  const split = splitProtectedOperations(input.current, merged.operations, input.protectedRules);
  const compacted = split.open.length > 0
    ? compactExperiences(applyOperations(input.current, split.open, provenance))
    : { experiences: { ...input.current.experiences }, metadata: { ...input.current.metadata }, keyMap: Object.fromEntries(Object.keys(input.current.experiences).map((k) => [k, k])) };
  assertProtectedRulesKept(input.current, compacted, input.protectedRules);
  const evidenceKeys = [...new Set(merged.operations.flatMap((op) => op.evidence))];
  return {
    plan: {
      reflection_id: input.reflectionId,
      plan_fingerprint: planFingerprint(split.open, input.reflectionId),
      operations: split.open,
      queued: split.queued.map(({ operation, targets }) => ({
        operation,
        targets: targets.map((t) => ({ ...t, text: input.current.experiences[t.key] ?? null })),
      })),
      proposed_operations: merged.operations,
      evidence_group_ids: [...new Set(evidenceKeys.map((k) => input.groupIdByTicketKey.get(k) ?? k))],
      uncertainty_note: input.uncertaintyNote,
      dropped: merged.dropped,
    },
    preview_guidance: untimed(compacted),
    proposed_guidance: untimed(proposed),
    key_map: compacted.keyMap,
  };
}

/** planBatchUpdate with the preview stamped at `now`, as the apply writes it (the race and crash fixtures drive this). */
export function buildBatchUpdate(input: Parameters<typeof planBatchUpdate>[0] & { now: string }): Omit<ReturnType<typeof planBatchUpdate>, 'preview_guidance'> & {
  preview_guidance: Pick<GuidanceState, 'experiences' | 'metadata'>;
} {
  const planned = planBatchUpdate(input);
  return { ...planned, preview_guidance: withRuleTimes(input.current, planned.preview_guidance, input.now) };
}

function untimed(guidance: { experiences: Record<string, string>; metadata: Record<string, ExperienceMeta> }): PreviewGuidance {
  const metadata: Record<string, UntimedRuleMeta> = {};
  for (const [key, meta] of Object.entries(guidance.metadata)) {
    const { updated_at: _time, ...rest } = meta;
    metadata[key] = rest;
  }
  return { experiences: guidance.experiences, metadata };
}

/**
 * The preview as the guidance file gets it: a rule whose text and metadata the plan left
 * as they were keeps the time it had in `current` (renumbering by compaction changes
 * neither); a rule the plan added or changed was written `now`.
 */
export function withRuleTimes(current: GuidanceState, preview: PreviewGuidance, now: string): Pick<GuidanceState, 'experiences' | 'metadata'> {
  const before = withRuleIds(current);
  const byRuleId = new Map(Object.entries(before.metadata).map(([key, meta]) => [meta.rule_id, { text: before.experiences[key], meta }]));
  const metadata: Record<string, ExperienceMeta> = {};
  for (const [key, meta] of Object.entries(preview.metadata)) {
    const previous = byRuleId.get(meta.rule_id);
    let time = now;
    if (previous && previous.text === preview.experiences[key]) {
      const { updated_at: previousTime, ...previousUntimed } = previous.meta;
      if (canonicalJson(previousUntimed) === canonicalJson(meta)) time = previousTime;
    }
    metadata[key] = { ...meta, updated_at: time };
  }
  return { experiences: preview.experiences, metadata };
}

/**
 * Compaction may fold an edited rule into a protected one with the same text, or the
 * protected one away into it; either would change a protected rule without asking.
 */
function assertProtectedRulesKept(
  current: GuidanceState,
  preview: { experiences: Record<string, string>; metadata: GuidanceState['metadata'] },
  policy: ProtectedRules,
): void {
  const after = new Map(Object.entries(preview.metadata).map(([key, meta]) => [meta.rule_id, preview.experiences[key]]));
  for (const [key, meta] of Object.entries(current.metadata)) {
    if (!(key in current.experiences) || protectionReason(key, meta, policy) === null) continue;
    if (after.get(meta.rule_id) !== current.experiences[key]) {
      throw new StageBError('GUIDANCE_REJECTED_OPERATION', `the plan would change the protected rule ${key} (${meta.rule_id}) through compaction`, { field: 'operations' });
    }
  }
}

/**
 * The batch update stage (deterministic): the critique's operations merged into one plan
 * and previewed (planBatchUpdate). A plan the guidance rules refuse ends the decision as
 * rejected_operation.
 */
export const batchUpdateStage = defineReflectionStage<BatchUpdateArtifact>({
  name: 'batch_update',
  schema: BatchUpdateArtifactSchema,
  inputs(batch, earlier) {
    const critique = earlier.get(critiqueStage);
    return {
      critique: critique.inputs_fingerprint,
      operations: critique.operations,
      uncertainty: critique.uncertainty_note,
      // Rule metadata minus its times: a fingerprint that read the wall clock would differ between identical runs.
      guidance: guidanceContentHashWithoutTimes(batch.current),
      reflection_id: batch.reflectionId,
      protected_rules: batch.ctx.config.protected_rules,
    };
  },
  async run(batch, earlier, inputsFingerprint) {
    const summary = earlier.get(summaryStage);
    const critique = earlier.get(critiqueStage);
    const { ctx } = batch;
    try {
      const built = planBatchUpdate({
        current: batch.current,
        operations: critique.operations,
        uncertaintyNote: critique.uncertainty_note,
        reflectionId: batch.reflectionId,
        groupIdByTicketKey: new Map(summary.groups.map((g) => [g.ticket_key, g.group_id])),
        protectedRules: ctx.config.protected_rules,
      });
      return {
        artifact: {
          stage: 'batch_update',
          schema_version: 1,
          ...batch.header,
          inputs_fingerprint: inputsFingerprint,
          ...built,
          provenance: {
            reflection_id: batch.reflectionId,
            mission: ctx.mission,
            epoch: ctx.epoch,
            cycle: ctx.cycle,
            batch_index: ctx.batchIndex,
            guidance_step_before: batch.current.step,
            summary_artifact: cacheArtifactPath(reflectionCacheName(ctx.epoch, ctx.cycle, summaryStage.name)),
            critique_artifact: cacheArtifactPath(reflectionCacheName(ctx.epoch, ctx.cycle, critiqueStage.name)),
            evidence_ticket_keys: [...new Set(built.plan.operations.flatMap((op) => op.evidence))],
          },
        },
      };
    } catch (error) {
      if (error instanceof StageBError && error.code === 'GUIDANCE_REJECTED_OPERATION') {
        batch.debug.error = { stage: 'batch_update', message: error.format() };
        return { end: { reason: 'rejected_operation', operations: critique.operations, uncertainty: critique.uncertainty_note }, status: 'rejected' };
      }
      throw error;
    }
  },
});
