import { sortExperienceKeys } from './sortExperienceKeys';

/**
 * The experiences block prepended to every prompt: `[G0]. text\n[G1]. text…`, keys in
 * numeric order so that G10 follows G9 (the spec's
 * `"\n".join(f"[{i}]. {e}" for i, e in sorted(experiences.items()))`, with a numeric sort).
 */
export function renderExperiences(experiences: Readonly<Record<string, string>>): string {
  return sortExperienceKeys(Object.keys(experiences))
    .map((key) => `[${key}]. ${experiences[key]}`)
    .join('\n');
}
