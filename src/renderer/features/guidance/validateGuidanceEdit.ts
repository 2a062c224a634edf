import type { GuidanceState } from '../../../shared/schemas/guidance';
import { guidanceEditIssues } from '../../../shared/guidance/guidanceEditRules';

export type EditIssue = { key: string | null; message: string; line?: number };

/** Parses the raw editor text into experiences; a JSON syntax error names its line. */
export function parseRawExperiences(text: string): { ok: true; experiences: Record<string, string> } | { ok: false; issue: EditIssue } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const pos = /position (\d+)/.exec(message);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    return { ok: false, issue: { key: null, message: `invalid JSON: ${message}`, line } };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, issue: { key: null, message: 'the raw view must hold one JSON object of rules, e.g. {"G0": "…"}' } };
  const experiences: Record<string, string> = {};
  for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
    if (typeof text !== 'string') return { ok: false, issue: { key, message: `rule ${key} must be a string`, line: lineOfKey(JSON.stringify(value, null, 2), key) } };
    experiences[key] = text;
  }
  return { ok: true, experiences };
}

function lineOfKey(text: string, key: string): number | undefined {
  const index = text.indexOf(JSON.stringify(key));
  return index < 0 ? undefined : text.slice(0, index).split('\n').length;
}

/**
 * Checks an edit before it is sent, by the rules the repository applies to every write
 * (guidanceEditIssues: keys, G0 present, S-invariants unchanged, every changed text a rule),
 * with the line of each key in the raw view.
 */
export function validateGuidanceEdit(experiences: Record<string, string>, server: GuidanceState | null, rawText?: string): EditIssue[] {
  const where = (key: string) => (rawText ? lineOfKey(rawText, key) : undefined);
  const issues: EditIssue[] = guidanceEditIssues(experiences, server?.experiences ?? null).map((issue) => ({
    key: issue.key,
    message: issue.key !== null && experiences[issue.key]?.trim() === '' ? `${issue.message}; remove it instead` : issue.message,
    line: issue.key !== null ? where(issue.key) : undefined,
  }));
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const id = `${issue.key}|${issue.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

export function nextRuleKey(experiences: Record<string, string>): string {
  let max = 0;
  for (const key of Object.keys(experiences)) {
    const m = /^G(\d+)$/.exec(key);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `G${max + 1}`;
}
