import type { ExperienceMeta } from '../../../shared/schemas/guidance';
import { sortExperienceKeys } from '../../../shared/guidance/sortExperienceKeys';

/**
 * Per-rule three-way merge for a guidance save that lost the step race. Rules are
 * matched by rule_id, not by key: reflection renumbers the dense G-keys after a removal,
 * so matching keys would pair the annotator's G3 with what is now another rule's G3.
 * `null` means "the rule does not exist on that side".
 */
export type RuleSide = 'mine' | 'theirs' | 'custom';

export type MergeRow = {
  /** The row's identity: the rule_id, or the key for states without ids, or `new:<key>` for a rule only the annotator has. */
  id: string;
  /** What the row is called: the rule's key on disk now (theirs), else the annotator's key. */
  key: string;
  /** The annotator's key for the rule when it differs from `key` (the rule was renumbered under them). */
  mineKey: string | null;
  base: string | null;
  theirs: string | null;
  mine: string | null;
  /** Both sides changed the rule differently; the annotator must look. */
  conflict: boolean;
  /** null until the annotator chooses: a conflicted rule has no default, so a save without looking drops nobody's change. */
  pick: RuleSide | null;
  custom: string | null;
};

/** A side of the merge: experiences, with rule ids when known (states read through the API always have them). */
export type MergeSide = { experiences: Readonly<Record<string, string>>; metadata?: Readonly<Record<string, Pick<ExperienceMeta, 'rule_id'>>> };

function idsOf(side: MergeSide): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of Object.keys(side.experiences)) out.set(key, side.metadata?.[key]?.rule_id ?? key);
  return out;
}

/**
 * Rows in the order of theirs (the file on disk), then rules only the annotator or the
 * base has. `mine` is keyed like `base`: the editor's text is based on that state, so
 * its keys name base's rules; a key base does not have is a rule the annotator added.
 */
export function buildMergeRows(base: MergeSide | Record<string, string>, theirs: MergeSide | Record<string, string>, mine: Record<string, string>): MergeRow[] {
  const b: MergeSide = 'experiences' in base && typeof base.experiences === 'object' ? (base as MergeSide) : { experiences: base as Record<string, string> };
  const t: MergeSide = 'experiences' in theirs && typeof theirs.experiences === 'object' ? (theirs as MergeSide) : { experiences: theirs as Record<string, string> };
  const baseIds = idsOf(b);
  const theirsIds = idsOf(t);
  const keyed = !b.metadata && !t.metadata;
  const mineId = (key: string) => baseIds.get(key) ?? (keyed ? key : `new:${key}`);
  const rows = new Map<string, { key: string; mineKey: string | null; base: string | null; theirs: string | null; mine: string | null }>();
  const row = (id: string, key: string) => {
    let r = rows.get(id);
    if (!r) rows.set(id, (r = { key, mineKey: null, base: null, theirs: null, mine: null }));
    return r;
  };
  for (const key of sortExperienceKeys(Object.keys(t.experiences))) row(theirsIds.get(key)!, key).theirs = t.experiences[key];
  for (const key of sortExperienceKeys(Object.keys(mine))) {
    const r = row(mineId(key), key);
    r.mine = mine[key];
    r.mineKey = key;
  }
  for (const key of sortExperienceKeys(Object.keys(b.experiences))) row(baseIds.get(key)!, key).base = b.experiences[key];
  return [...rows].map(([id, r]) => {
    const mineChanged = r.mine !== r.base;
    const theirsChanged = r.theirs !== r.base;
    const conflict = mineChanged && theirsChanged && r.mine !== r.theirs;
    // Default: keep whoever changed the rule; a true conflict has none until the annotator picks.
    const pick: RuleSide | null = conflict ? null : !mineChanged && theirsChanged ? 'theirs' : 'mine';
    return { id, key: r.key, mineKey: r.mineKey !== null && r.mineKey !== r.key ? r.mineKey : null, base: r.base, theirs: r.theirs, mine: r.mine, conflict, pick, custom: null };
  });
}

export function pickRule(rows: MergeRow[], id: string, pick: RuleSide, custom?: string | null): MergeRow[] {
  return rows.map((row) => {
    if (row.id !== id) return row;
    if (pick !== 'custom') return { ...row, pick };
    const seed = custom ?? row.custom ?? (row.mine ?? row.theirs ?? '');
    return { ...row, pick, custom: seed };
  });
}

/** The text a row resolves to; an unchosen conflict shows theirs (the file on disk) until it is chosen. */
export function resolvedText(row: MergeRow): string | null {
  if (row.pick === null) return row.theirs;
  if (row.pick === 'custom') return row.custom;
  return row.pick === 'mine' ? row.mine : row.theirs;
}

/**
 * The merged experiences dictionary; rules resolved to "absent" are dropped. A rule keeps
 * its key on disk (so the repository continues that rule); a rule the file does not have
 * (the annotator's new rule, or one reflection removed that the annotator kept) takes the
 * next G key after them, so the keys stay dense.
 */
export function resolveMerge(rows: MergeRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  const homeless: Array<{ key: string; text: string; keyed: boolean }> = [];
  for (const row of rows) {
    const text = resolvedText(row);
    if (text === null) continue;
    if (row.theirs !== null) out[row.key] = text;
    else homeless.push({ key: row.key, text, keyed: row.id === row.key });
  }
  let next = Math.max(0, ...Object.keys(out).map((k) => (/^G(\d+)$/.exec(k) ? Number(k.slice(1)) + 1 : 0)));
  for (const { key, text, keyed } of homeless) {
    // Without rule ids (a keyed merge) a key is all the identity a rule has: keep it when free.
    if ((keyed || key.startsWith('S')) && !(key in out)) {
      out[key] = text;
      continue;
    }
    while (`G${next}` in out) next += 1;
    out[`G${next}`] = text;
    next += 1;
  }
  return out;
}

/** The keys of the conflicted rules not chosen yet: a merge is saved only when there are none. */
export function unresolvedConflicts(rows: MergeRow[]): string[] {
  return rows.filter((r) => r.pick === null).map((r) => r.key);
}
