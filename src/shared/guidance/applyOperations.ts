import { StageBError } from '../errors';
import type { ExperienceMeta, StoredExperienceMeta } from '../schemas/guidance';
import type { ReflectionOperation } from '../schemas/records';
import { isInvariantKey, learnedKeyIndex, sortExperienceKeys } from './sortExperienceKeys';
import { validateExperienceText } from './validateExperienceText';
import { GUIDANCE_RULE_TEXT, guidanceEditIssues } from './guidanceEditRules';
import { ruleIdFrom, ruleIdSeed } from './ruleId';
import { withRuleIds } from './withRuleIds';

export type OperationProvenance = {
  /** The reflection that proposed the text (also when a person approves it from the review queue). */
  reflection_id: string | null;
  updated_at: string;
  origin?: 'reflection' | 'annotator';
  /** The person who wrote the text; null or absent for the engine. */
  author?: string | null;
  /** The person who accepted the engine's proposal from the review queue. */
  approved_by?: string | null;
};

export type ExperiencesAndMetadata = {
  experiences: Record<string, string>;
  metadata: Record<string, ExperienceMeta>;
};

function reject(index: number, field: string, reason: string): never {
  return fail(`operations[${index}].${field}`, `operation ${index}: ${reason}`);
}

function fail(field: string, reason: string): never {
  throw new StageBError('GUIDANCE_REJECTED_OPERATION', reason, { field });
}

function uniqueInOrder(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * Applies a reflection plan to guidance, in order, without touching disk. The plan is
 * all-or-nothing: any operation the rules forbid throws GUIDANCE_REJECTED_OPERATION
 * naming `operations[i].<field>` and nothing is returned.
 *
 * Rules: G0 (the mission checklist) can be rewritten but never removed or merged
 * away; S<n> keys are read-only; modify/merge/remove need an existing key; new and
 * rewritten text must pass validateExperienceText; the result is never empty.
 * `add` always appends after the highest G key, whatever `key` says (models write
 * placeholders such as "NEW"). Every touched key records the provenance; a rule keeps its
 * rule_id through modify and merge, an add gets a new one, a merge records the ids it folded in.
 */
export function applyOperations(
  state: { experiences: Readonly<Record<string, string>>; metadata?: Readonly<Record<string, StoredExperienceMeta>> },
  operations: readonly ReflectionOperation[],
  provenance: OperationProvenance,
): ExperiencesAndMetadata {
  const resolved = withRuleIds({ updated_at: provenance.updated_at, experiences: state.experiences, metadata: state.metadata ?? {} });
  const experiences: Record<string, string> = { ...state.experiences };
  const metadata: Record<string, ExperienceMeta> = {};
  for (const [key, meta] of Object.entries(resolved.metadata)) metadata[key] = { ...meta, sources: [...meta.sources], merged_rule_ids: [...meta.merged_rule_ids] };
  const usedIds = new Set(Object.values(metadata).map((meta) => meta.rule_id));

  /** The rule keeps its id (a new one for an add); everything else records this write. */
  const stamp = (key: string, operation: ReflectionOperation, sources: readonly string[], ruleId: string, mergedIds: readonly string[]): void => {
    metadata[key] = {
      rule_id: ruleId,
      origin: provenance.origin ?? 'reflection',
      reflection_id: provenance.reflection_id,
      sources: uniqueInOrder(sources),
      rationale: operation.rationale ?? null,
      updated_at: provenance.updated_at,
      author: provenance.author ?? null,
      approved_by: provenance.approved_by ?? null,
      merged_rule_ids: uniqueInOrder(mergedIds),
    };
  };

  const requireText = (index: number, operation: ReflectionOperation, key: string): string => {
    if (operation.text === undefined) reject(index, 'text', `${operation.op} needs a text`);
    const reason = validateExperienceText(key, operation.text);
    if (reason) reject(index, 'text', reason);
    return operation.text.trim();
  };

  const requireExisting = (index: number, key: string, field: string, verb: string): void => {
    if (isInvariantKey(key)) reject(index, field, GUIDANCE_RULE_TEXT.invariant(key, verb));
    if (!(key in experiences)) reject(index, field, `${key} does not exist in the guidance, so it cannot be ${verb}`);
  };

  operations.forEach((operation, index) => {
    const key = operation.key;
    switch (operation.op) {
      case 'add': {
        if (isInvariantKey(key)) reject(index, 'key', GUIDANCE_RULE_TEXT.invariant(key, 'written'));
        const highest = Math.max(0, ...Object.keys(experiences).map((k) => learnedKeyIndex(k) ?? 0));
        const newKey = `G${highest + 1}`;
        experiences[newKey] = requireText(index, operation, newKey);
        const ruleId = ruleIdFrom(ruleIdSeed('add', provenance, `${index}|${experiences[newKey]}`), usedIds);
        usedIds.add(ruleId);
        stamp(newKey, operation, operation.evidence, ruleId, []);
        break;
      }
      case 'modify': {
        requireExisting(index, key, 'key', 'modified');
        experiences[key] = requireText(index, operation, key);
        stamp(key, operation, operation.evidence, metadata[key].rule_id, metadata[key].merged_rule_ids);
        break;
      }
      case 'merge': {
        requireExisting(index, key, 'key', 'merged into');
        const from = operation.merge_from ?? [];
        if (from.length === 0) reject(index, 'merge_from', 'merge needs at least one key in merge_from');
        from.forEach((source, sourceIndex) => {
          const field = `merge_from[${sourceIndex}]`;
          if (source === key) reject(index, field, `${key} cannot be merged into itself`);
          if (source === 'G0') reject(index, field, GUIDANCE_RULE_TEXT.g0MergedAway);
          requireExisting(index, source, field, 'merged');
        });
        const text = requireText(index, operation, key);
        const carried = [key, ...from].flatMap((k) => metadata[k]?.sources ?? []);
        const target = metadata[key];
        const mergedIds = [...target.merged_rule_ids, ...from.flatMap((k) => [metadata[k].rule_id, ...metadata[k].merged_rule_ids])];
        for (const source of from) {
          delete experiences[source];
          delete metadata[source];
        }
        experiences[key] = text;
        stamp(key, operation, [...operation.evidence, ...carried], target.rule_id, mergedIds);
        break;
      }
      case 'remove': {
        if (key === 'G0') reject(index, 'key', GUIDANCE_RULE_TEXT.g0Removed);
        requireExisting(index, key, 'key', 'removed');
        delete experiences[key];
        delete metadata[key];
        break;
      }
      default:
        reject(index, 'op', `unknown operation ${JSON.stringify((operation as { op: unknown }).op)}`);
    }
  });

  if (Object.keys(experiences).length === 0) fail('operations', 'the plan would leave the experiences empty');
  // The result obeys the rules every write does (the repository checks them again when it is written).
  const [broken] = guidanceEditIssues(experiences, state.experiences);
  if (broken) fail(broken.field, broken.message);

  const ordered: Record<string, string> = {};
  for (const key of sortExperienceKeys(Object.keys(experiences))) ordered[key] = experiences[key];
  return { experiences: ordered, metadata };
}
