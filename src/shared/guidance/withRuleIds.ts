import type { ExperienceMeta, StoredExperienceMeta } from '../schemas/guidance';
import { normalizeExperienceText } from './normalizeExperienceText';
import { isInvariantKey, sortExperienceKeys } from './sortExperienceKeys';
import { ruleIdFrom } from './ruleId';

type WithStoredMeta = { updated_at: string; experiences: Readonly<Record<string, string>>; metadata: Readonly<Record<string, StoredExperienceMeta>> };

/**
 * The seed of the id a rule gets when its file has none. G0 and S<n> are identified by
 * their key (the checklist stays G0, invariants never move); learned rules by their
 * normalised text, so the same rule in two older snapshots gets the same id even when
 * compaction renumbered it in between.
 */
function legacySeed(key: string, text: string): string {
  return key === 'G0' || isInvariantKey(key) ? `key:${key}` : `text:${normalizeExperienceText(text)}`;
}

/**
 * Gives every experience metadata with a rule_id: ids in the file are kept (the first
 * holder of a duplicated id keeps it), missing ones are derived deterministically, and
 * metadata of keys that no longer exist is dropped. Pure and idempotent.
 */
export function withRuleIds<S extends WithStoredMeta>(state: S): Omit<S, 'metadata'> & { metadata: Record<string, ExperienceMeta> } {
  const used = new Set<string>();
  const keys = sortExperienceKeys(Object.keys(state.experiences));
  const kept = new Map<string, string>();
  for (const key of keys) {
    const id = state.metadata[key]?.rule_id;
    if (id !== undefined && !used.has(id)) {
      used.add(id);
      kept.set(key, id);
    }
  }
  const metadata: Record<string, ExperienceMeta> = {};
  for (const key of keys) {
    const stored = state.metadata[key];
    let ruleId = kept.get(key);
    if (ruleId === undefined) {
      ruleId = ruleIdFrom(legacySeed(key, state.experiences[key]), used);
      used.add(ruleId);
    }
    metadata[key] = {
      rule_id: ruleId,
      origin: stored?.origin ?? 'initial',
      reflection_id: stored?.reflection_id ?? null,
      sources: stored?.sources ?? [],
      rationale: stored?.rationale ?? null,
      updated_at: stored?.updated_at ?? state.updated_at,
      author: stored?.author ?? null,
      approved_by: stored?.approved_by ?? null,
      merged_rule_ids: stored?.merged_rule_ids ?? [],
    };
  }
  return { ...state, metadata };
}
