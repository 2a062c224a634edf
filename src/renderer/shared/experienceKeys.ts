import { sortExperienceKeys } from '../../shared/guidance/sortExperienceKeys';

/** The union of several experience dictionaries' keys, in the shared key order (G2 before G10). */
export function sortedExperienceKeys(...records: Array<Record<string, unknown> | null | undefined>): string[] {
  const keys = new Set<string>();
  for (const record of records) for (const key of Object.keys(record ?? {})) keys.add(key);
  return sortExperienceKeys([...keys]);
}
