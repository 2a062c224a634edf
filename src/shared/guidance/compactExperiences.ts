import type { ExperienceMeta, StoredExperienceMeta } from '../schemas/guidance';
import { isInvariantKey, learnedKeyIndex, sortExperienceKeys } from './sortExperienceKeys';
import { normalizeExperienceText } from './normalizeExperienceText';

export type CompactedExperiences<M extends StoredExperienceMeta = ExperienceMeta> = {
  experiences: Record<string, string>;
  metadata: Record<string, M>;
  /** Old key → new key, for every kept key and for every dropped duplicate (→ the key it duplicated). */
  keyMap: Record<string, string>;
};

/**
 * The spec's post-update compaction: normalise learned texts, drop exact duplicates
 * (the first one in key order wins and inherits the dropped one's sources), and
 * renumber learned keys densely G1..Gn in their existing order (a rule keeps its rule_id:
 * renumbering renames, it does not replace; a dropped duplicate's id is recorded in
 * the kept rule's merged_rule_ids). G0 and S<n> keep their
 * keys and their text exactly as written (S is read-only; G0 is the human-written
 * checklist, and rewriting its layout would make every plan look like a G0 edit). Metadata follows its key;
 * metadata of keys that no longer exist is dropped. Idempotent.
 */
export function compactExperiences<M extends StoredExperienceMeta = ExperienceMeta>(input: {
  experiences: Readonly<Record<string, string>>;
  metadata?: Readonly<Record<string, M>>;
}): CompactedExperiences<M> {
  const sourceMeta: Readonly<Record<string, M>> = input.metadata ?? {};
  const experiences: Record<string, string> = {};
  const metadata: Record<string, M> = {};
  const keyMap: Record<string, string> = {};
  const keyByText = new Map<string, string>();
  let next = 1;

  const absorb = (keptKey: string, droppedKey: string): void => {
    const dropped = sourceMeta[droppedKey];
    if (!dropped) return;
    const kept = metadata[keptKey];
    if (!kept) {
      metadata[keptKey] = { ...dropped, sources: [...new Set(dropped.sources)] };
      return;
    }
    const droppedIds = [...(dropped.rule_id !== undefined && dropped.rule_id !== kept.rule_id ? [dropped.rule_id] : []), ...(dropped.merged_rule_ids ?? [])];
    metadata[keptKey] = {
      ...kept,
      sources: [...new Set([...kept.sources, ...dropped.sources])],
      merged_rule_ids: [...new Set([...(kept.merged_rule_ids ?? []), ...droppedIds])],
    };
  };

  for (const key of sortExperienceKeys(Object.keys(input.experiences))) {
    const invariant = isInvariantKey(key);
    const learned = learnedKeyIndex(key);
    const raw = input.experiences[key];
    const normalized = invariant || learned === null ? raw : normalizeExperienceText(raw);
    // G0 is the human-written mission checklist: compared like the others, stored as written.
    const text = key === 'G0' ? raw : normalized;
    if (learned !== null && learned > 0 && text === '') continue;
    const duplicateOf = keyByText.get(normalized);
    if (duplicateOf !== undefined && !invariant && key !== 'G0') {
      keyMap[key] = duplicateOf;
      absorb(duplicateOf, key);
      continue;
    }
    const newKey = learned !== null && learned > 0 ? `G${next++}` : key;
    experiences[newKey] = text;
    keyMap[key] = newKey;
    if (!keyByText.has(normalized)) keyByText.set(normalized, newKey);
    const meta = sourceMeta[key];
    if (meta) metadata[newKey] = { ...meta, sources: [...new Set(meta.sources)] };
  }

  const ordered: Record<string, string> = {};
  for (const key of sortExperienceKeys(Object.keys(experiences))) ordered[key] = experiences[key];
  return { experiences: ordered, metadata, keyMap };
}
