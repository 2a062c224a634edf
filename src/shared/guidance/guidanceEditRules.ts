import { ExperienceKeySchema } from '../schemas/guidance';
import { isInvariantKey, sortExperienceKeys } from './sortExperienceKeys';
import { validateExperienceText } from './validateExperienceText';

/**
 * The rules every write of a mission's experiences obeys, whoever writes: the guidance
 * repository (every save, merge, apply and approval), the guidance editor before it sends,
 * and reflection's operations. Their words live here once.
 */
export const GUIDANCE_RULE_TEXT = {
  empty: 'guidance must keep at least one experience',
  notAKey: (key: string) => `${JSON.stringify(key)} is not an experience key (G0, G12, S1)`,
  notText: (key: string) => `experience ${key} must be text`,
  g0Removed: 'G0 is the mission checklist and cannot be removed',
  g0MergedAway: 'G0 is the mission checklist and cannot be merged away',
  invariant: (key: string, verb = 'added, changed or removed') => `${key} is a read-only invariant and cannot be ${verb}`,
} as const;

export type GuidanceEditIssue = {
  code: 'GUIDANCE_EMPTY_EXPERIENCES' | 'GUIDANCE_REJECTED_OPERATION';
  /** The experience key the issue is about; null for the whole set. */
  key: string | null;
  /** Where, under the mission: `experiences` or `experiences.<key>`. */
  field: string;
  message: string;
};

/**
 * Why `next` cannot replace `current` (null: nothing stored yet), in key order; empty when
 * it can. S-keys must stay exactly as stored, G0 must stay, and every text that changed
 * must be a rule (validateExperienceText). `verbatim` (a rollback restoring a snapshot)
 * skips the invariant and text checks: the snapshot passed them when it was written.
 */
export function guidanceEditIssues(
  next: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, string>> | null,
  options: { verbatim?: boolean } = {},
): GuidanceEditIssue[] {
  const issues: GuidanceEditIssue[] = [];
  const rejected = (key: string | null, message: string) =>
    issues.push({ code: 'GUIDANCE_REJECTED_OPERATION', key, field: key === null ? 'experiences' : `experiences.${key}`, message });
  const keys = Object.keys(next);
  if (keys.length === 0) return [{ code: 'GUIDANCE_EMPTY_EXPERIENCES', key: null, field: 'experiences', message: GUIDANCE_RULE_TEXT.empty }];
  for (const key of keys) {
    if (!ExperienceKeySchema.safeParse(key).success) rejected(key, GUIDANCE_RULE_TEXT.notAKey(key));
    else if (typeof next[key] !== 'string') rejected(key, GUIDANCE_RULE_TEXT.notText(key));
  }
  if (!('G0' in next)) rejected('G0', GUIDANCE_RULE_TEXT.g0Removed);
  if (options.verbatim) return issues;
  const stored = current ?? {};
  const invariantKeys = new Set([...Object.keys(stored), ...keys].filter(isInvariantKey));
  for (const key of sortExperienceKeys([...invariantKeys])) {
    if (current !== null && stored[key] !== next[key]) rejected(key, GUIDANCE_RULE_TEXT.invariant(key));
  }
  for (const key of sortExperienceKeys(keys)) {
    const text = next[key];
    if (typeof text !== 'string' || !ExperienceKeySchema.safeParse(key).success) continue;
    if ((isInvariantKey(key) && current !== null) || stored[key] === text) continue;
    const reason = validateExperienceText(key, text);
    if (reason) rejected(key, reason);
  }
  return issues;
}
