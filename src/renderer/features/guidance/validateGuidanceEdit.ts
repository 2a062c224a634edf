import { ExperienceKeySchema, GuidanceStateSchema, type GuidanceState } from '../../../shared/schemas/guidance';
import { validateExperienceText } from '../../../shared/guidance/validateExperienceText';

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
 * Checks an edit before it is sent: the zod GuidanceStateSchema (keys, non-empty),
 * G0 present, S-invariants unchanged, and validateExperienceText (no empty rule, no
 * copied Stage-A summary) on every rule.
 */
export function validateGuidanceEdit(experiences: Record<string, string>, server: GuidanceState | null, rawText?: string): EditIssue[] {
  const issues: EditIssue[] = [];
  const where = (key: string) => (rawText ? lineOfKey(rawText, key) : undefined);
  const parsed = GuidanceStateSchema.safeParse({ step: server?.step ?? 0, updated_at: server?.updated_at ?? new Date().toISOString(), experiences, metadata: server?.metadata ?? {} });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0] === 'experiences' && typeof issue.path[1] === 'string' ? issue.path[1] : null;
      issues.push({ key, message: `${issue.path.join('.') || 'guidance'}: ${issue.message}`, line: key ? where(key) : undefined });
    }
  }
  for (const key of Object.keys(experiences)) {
    if (!ExperienceKeySchema.safeParse(key).success) continue;
    if (key.startsWith('S') && server?.experiences[key] === experiences[key]) continue;
    const problem = validateExperienceText(key, experiences[key]);
    if (problem) issues.push({ key, message: experiences[key].trim() === '' ? `${problem}; remove it instead` : problem, line: where(key) });
  }
  if (!('G0' in experiences)) issues.push({ key: 'G0', message: 'G0 is the mission checklist and cannot be removed' });
  for (const [key, text] of Object.entries(server?.experiences ?? {})) {
    if (!key.startsWith('S')) continue;
    if (experiences[key] !== text) issues.push({ key, message: `${key} is a read-only invariant and cannot be changed`, line: where(key) });
  }
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
