import { sortedExperienceKeys } from '../../shared/experienceKeys';

export type RuleChangeKind = 'added' | 'removed' | 'modified' | 'unchanged';

export type RuleChange = { key: string; kind: RuleChangeKind; before: string | null; after: string | null };

/** Structural per-rule diff of two experience dictionaries, in experience-key order. */
export function diffRules(before: Record<string, string> | null | undefined, after: Record<string, string> | null | undefined): RuleChange[] {
  const a = before ?? {};
  const b = after ?? {};
  return sortedExperienceKeys(a, b).map((key) => {
    const x = Object.prototype.hasOwnProperty.call(a, key) ? a[key] : null;
    const y = Object.prototype.hasOwnProperty.call(b, key) ? b[key] : null;
    const kind: RuleChangeKind = x === null ? 'added' : y === null ? 'removed' : x === y ? 'unchanged' : 'modified';
    return { key, kind, before: x, after: y };
  });
}

export function summarizeRuleChanges(changes: RuleChange[]): Record<Exclude<RuleChangeKind, 'unchanged'>, number> {
  const counts = { added: 0, removed: 0, modified: 0 };
  for (const change of changes) if (change.kind !== 'unchanged') counts[change.kind] += 1;
  return counts;
}

/** The guidance as the prompt sees it, one `[Gn]. text` line per rule; what the Monaco diff compares. */
export function renderExperiences(experiences: Record<string, string> | null | undefined): string {
  return sortedExperienceKeys(experiences ?? {})
    .map((key) => `[${key}]. ${(experiences ?? {})[key]}`)
    .join('\n');
}
