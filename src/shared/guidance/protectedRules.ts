import type { ExperienceMeta } from '../schemas/guidance';
import type { ReflectionOperation } from '../schemas/records';
import type { ProtectedRules } from '../schemas/runConfig';

/** The rule's latest author is a person: an annotator wrote the text, or a person approved the engine's proposal. */
export function latestAuthorIsPerson(meta: ExperienceMeta | undefined): boolean {
  if (!meta) return false;
  return meta.origin === 'annotator' || meta.author !== null || meta.approved_by !== null;
}

/** Why reflection may not change this rule by itself, or null when it may. */
export function protectionReason(key: string, meta: ExperienceMeta | undefined, policy: ProtectedRules): string | null {
  if (policy.mission_checklist && key === 'G0') return 'G0 is the mission checklist';
  if (meta && policy.rule_ids.includes(meta.rule_id)) return `${meta.rule_id} is listed in reflection.protected_rules.rule_ids`;
  if (policy.person_authored && latestAuthorIsPerson(meta)) {
    const who = meta?.approved_by ?? meta?.author;
    return who ? `its latest author is a person (${who})` : 'its latest author is a person';
  }
  return null;
}

/** rule_id is null only for a state whose metadata was never resolved (withRuleIds). */
export type ProtectedTarget = { key: string; rule_id: string | null; reason: string };
export type QueuedOperation = { operation: ReflectionOperation; targets: ProtectedTarget[] };

/** The keys an operation changes: its key (not for add, which creates), and a merge's sources. */
export function operationTargets(operation: ReflectionOperation): string[] {
  if (operation.op === 'add') return [];
  return [operation.key, ...(operation.op === 'merge' ? (operation.merge_from ?? []) : [])];
}

/**
 * Splits a plan into the operations reflection may apply (after the gate) and those that
 * touch a protected rule, which go to the review queue instead. Adds never touch an
 * existing rule. Keys are those of `state`, the guidance the plan was made for.
 */
export function splitProtectedOperations(
  state: { metadata: Readonly<Record<string, ExperienceMeta>> },
  operations: readonly ReflectionOperation[],
  policy: ProtectedRules,
): { open: ReflectionOperation[]; queued: QueuedOperation[] } {
  const open: ReflectionOperation[] = [];
  const queued: QueuedOperation[] = [];
  for (const operation of operations) {
    const targets: ProtectedTarget[] = [];
    for (const key of operationTargets(operation)) {
      const meta = state.metadata[key];
      const reason = protectionReason(key, meta, policy);
      if (reason) targets.push({ key, rule_id: meta?.rule_id ?? null, reason });
    }
    if (targets.length > 0) queued.push({ operation, targets });
    else open.push(operation);
  }
  return { open, queued };
}
