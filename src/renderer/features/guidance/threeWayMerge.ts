import { sortedExperienceKeys } from '../../shared/experienceKeys';

/**
 * Per-rule three-way merge for a guidance save that lost the step race.
 * `null` means "the rule does not exist on that side".
 */
export type RuleSide = 'mine' | 'theirs' | 'custom';

export type MergeRow = {
  key: string;
  base: string | null;
  theirs: string | null;
  mine: string | null;
  /** Both sides changed the rule differently; the annotator must look. */
  conflict: boolean;
  pick: RuleSide;
  custom: string | null;
};

export function buildMergeRows(base: Record<string, string>, theirs: Record<string, string>, mine: Record<string, string>): MergeRow[] {
  return sortedExperienceKeys(base, theirs, mine).map((key) => {
    const b = key in base ? base[key] : null;
    const t = key in theirs ? theirs[key] : null;
    const m = key in mine ? mine[key] : null;
    const mineChanged = m !== b;
    const theirsChanged = t !== b;
    const conflict = mineChanged && theirsChanged && m !== t;
    // Default: keep whoever changed the rule; on a true conflict the annotator's text wins until they pick.
    const pick: RuleSide = !mineChanged && theirsChanged ? 'theirs' : 'mine';
    return { key, base: b, theirs: t, mine: m, conflict, pick, custom: null };
  });
}

export function pickRule(rows: MergeRow[], key: string, pick: RuleSide, custom?: string | null): MergeRow[] {
  return rows.map((row) => {
    if (row.key !== key) return row;
    if (pick !== 'custom') return { ...row, pick };
    const seed = custom ?? row.custom ?? (row.mine ?? row.theirs ?? '');
    return { ...row, pick, custom: seed };
  });
}

export function resolvedText(row: MergeRow): string | null {
  if (row.pick === 'custom') return row.custom;
  return row.pick === 'mine' ? row.mine : row.theirs;
}

/** The merged experiences dictionary; rules resolved to "absent" are dropped. */
export function resolveMerge(rows: MergeRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of rows) {
    const text = resolvedText(row);
    if (text !== null) out[row.key] = text;
  }
  return out;
}

export function unresolvedConflicts(rows: MergeRow[]): string[] {
  return rows.filter((r) => r.conflict && r.pick === 'mine' && r.custom === null).map((r) => r.key);
}
