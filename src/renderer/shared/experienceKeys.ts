/** G0 first, then G1..Gn numerically (G2 before G10), then S-invariants numerically. */
export function compareExperienceKeys(a: string, b: string): number {
  const pa = /^([A-Za-z]+)(\d+)$/.exec(a);
  const pb = /^([A-Za-z]+)(\d+)$/.exec(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa[1] !== pb[1]) return pa[1] === 'G' ? -1 : pb[1] === 'G' ? 1 : pa[1] < pb[1] ? -1 : 1;
  return Number(pa[2]) - Number(pb[2]);
}

export function sortedExperienceKeys(...records: Array<Record<string, unknown> | null | undefined>): string[] {
  const keys = new Set<string>();
  for (const record of records) for (const key of Object.keys(record ?? {})) keys.add(key);
  return [...keys].sort(compareExperienceKeys);
}
