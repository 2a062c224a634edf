import type { ExperienceMeta, StoredExperienceMeta } from '../schemas/guidance';
import { canonicalJson } from './canonicalJson';
import { normalizeExperienceText } from './normalizeExperienceText';
import { ruleIdFrom, ruleIdSeed } from './ruleId';
import { sortExperienceKeys } from './sortExperienceKeys';

/** What a write records on the rules whose text it changed or created. */
export type RuleStamp = {
  origin: ExperienceMeta['origin'];
  author: string | null;
  approved_by?: string | null;
  reflection_id?: string | null;
  updated_at: string;
};

/**
 * Metadata for a whole-state write (an annotator's save, a merge, an engine write), so
 * that rule identity survives edits that name no rule_id. Each new key is matched to a
 * rule of `before`, strongest evidence first, each rule claimed once:
 *  1. the rule_id its metadata names (a creator-assigned id not in `before` is a new rule
 *     whose metadata is taken as given);
 *  2. the same key with the same text (unchanged);
 *  3. another key with the same normalised text (a renumbering: a rename, not a change);
 *  4. the same key with another text (a modification of that rule);
 *  5. otherwise a new rule with a new id.
 * Unchanged rules keep their metadata. Changed or new rules keep metadata the caller
 * updated itself; otherwise they get `stamp` (keeping the rule_id, sources and merged ids).
 */
export function carryRuleMetadata(
  before: { experiences: Readonly<Record<string, string>>; metadata: Readonly<Record<string, ExperienceMeta>> },
  after: { experiences: Readonly<Record<string, string>>; metadata?: Readonly<Record<string, StoredExperienceMeta>> },
  stamp: RuleStamp,
): Record<string, ExperienceMeta> {
  const given = after.metadata ?? {};
  const keys = sortExperienceKeys(Object.keys(after.experiences));
  const beforeKeys = sortExperienceKeys(Object.keys(before.experiences)).filter((key) => before.metadata[key] !== undefined);
  const beforeKeyById = new Map(beforeKeys.map((key) => [before.metadata[key].rule_id, key]));
  const claimed = new Set<string>();
  /** after key → the before key it continues, or null for a new rule whose metadata the caller gave. */
  const match = new Map<string, string | null>();
  const isFree = (beforeKey: string): boolean => beforeKeyById.get(before.metadata[beforeKey]?.rule_id) === beforeKey && !claimed.has(before.metadata[beforeKey].rule_id);
  const claim = (key: string, beforeKey: string | null, ruleId: string): void => {
    match.set(key, beforeKey);
    claimed.add(ruleId);
  };
  const unmatched = () => keys.filter((key) => !match.has(key));

  for (const key of keys) {
    const id = given[key]?.rule_id;
    if (id !== undefined && !claimed.has(id)) claim(key, beforeKeyById.get(id) ?? null, id);
  }
  for (const key of unmatched()) {
    if (key in before.experiences && isFree(key) && before.experiences[key] === after.experiences[key]) claim(key, key, before.metadata[key].rule_id);
  }
  for (const key of unmatched()) {
    const text = normalizeExperienceText(after.experiences[key]);
    const beforeKey = beforeKeys.find((k) => isFree(k) && normalizeExperienceText(before.experiences[k]) === text);
    if (beforeKey !== undefined) claim(key, beforeKey, before.metadata[beforeKey].rule_id);
  }
  for (const key of unmatched()) {
    if (key in before.experiences && before.metadata[key] && isFree(key)) claim(key, key, before.metadata[key].rule_id);
  }

  const used = new Set([...beforeKeyById.keys(), ...claimed]);
  const metadata: Record<string, ExperienceMeta> = {};
  for (const key of keys) {
    const text = after.experiences[key];
    const beforeKey = match.get(key);
    if (beforeKey === undefined) {
      const ruleId = ruleIdFrom(ruleIdSeed('new', stamp, `${key}|${text}`), used);
      used.add(ruleId);
      metadata[key] = stamped(ruleId, [], [], stamp);
    } else if (beforeKey === null) {
      metadata[key] = withDefaults(given[key], stamp);
    } else {
      const previous = before.metadata[beforeKey];
      const offered = given[key];
      if (before.experiences[beforeKey] === text) metadata[key] = previous;
      else if (offered && canonicalJson(withDefaults({ ...offered, rule_id: previous.rule_id }, stamp)) !== canonicalJson(previous)) {
        metadata[key] = withDefaults({ ...offered, rule_id: previous.rule_id }, stamp);
      } else metadata[key] = stamped(previous.rule_id, previous.sources, previous.merged_rule_ids, stamp);
    }
  }
  return metadata;
}

function stamped(ruleId: string, sources: readonly string[], merged: readonly string[], stamp: RuleStamp): ExperienceMeta {
  return {
    rule_id: ruleId,
    origin: stamp.origin,
    reflection_id: stamp.reflection_id ?? null,
    sources: [...sources],
    rationale: null,
    updated_at: stamp.updated_at,
    author: stamp.author,
    approved_by: stamp.approved_by ?? null,
    merged_rule_ids: [...merged],
  };
}

function withDefaults(meta: StoredExperienceMeta & { rule_id: string } | StoredExperienceMeta, stamp: RuleStamp): ExperienceMeta {
  return {
    rule_id: meta.rule_id ?? '',
    origin: meta.origin ?? stamp.origin,
    reflection_id: meta.reflection_id ?? null,
    sources: meta.sources ?? [],
    rationale: meta.rationale ?? null,
    updated_at: meta.updated_at ?? stamp.updated_at,
    author: meta.author ?? null,
    approved_by: meta.approved_by ?? null,
    merged_rule_ids: meta.merged_rule_ids ?? [],
  };
}
