import { StageBError } from '../errors';
import { deriveSeed } from '../random';
import type { DistillRecord } from '../schemas/records';
import { assistantVerdict } from './assistantVerdict';

export type SplitOptions = {
  /** Share of each label stratum that goes to val, in [0, 1). */
  valFraction: number;
  seed: number;
  /** Drop records whose assistant verdict contradicts the human label. */
  dropLabelConflicts: boolean;
};

export type Stratum = 'pass' | 'fail' | 'unlabeled';
export type StratumCounts = Record<Stratum, number> & { total: number };

export type SplitCounts = {
  input: number;
  train: StratumCounts;
  val: StratumCounts;
  dropped: { label_conflict: number; malformed: number; total: number };
};

export type SplitResult = { train: DistillRecord[]; val: DistillRecord[]; counts: SplitCounts };

export function stratumOf(record: DistillRecord): Stratum {
  return record.label ?? 'unlabeled';
}

/**
 * Seeded, label-stratified train/val split.
 *
 * Within each label stratum the records are ranked by a per-record hash of
 * (seed, mission, group_id, label) and the first round(n × valFraction) go to
 * val. Ranking by a per-record hash rather than shuffling a list makes the
 * split independent of input order, and keeps a record on the same side when
 * the corpus grows (only the boundary moves). Output keeps the input order.
 *
 * A record whose assistant turn does not parse is always dropped (it would
 * teach the student a malformed answer); with dropLabelConflicts, a record
 * whose verdict contradicts its label is dropped too. Unlabelled records are
 * never conflicts and form their own stratum.
 */
export function splitCorpus(records: readonly DistillRecord[], options: SplitOptions): SplitResult {
  const { valFraction, seed } = options;
  if (!Number.isFinite(valFraction) || valFraction < 0 || valFraction >= 1) {
    throw new StageBError('CONFIG_INVALID', `val fraction must be in [0, 1), got ${valFraction}`, { field: 'valFraction' });
  }
  if (!Number.isInteger(seed) || seed < 0) {
    throw new StageBError('CONFIG_INVALID', `seed must be a non-negative integer, got ${seed}`, { field: 'seed' });
  }
  const dropped = { label_conflict: 0, malformed: 0, total: 0 };
  const kept: { record: DistillRecord; index: number }[] = [];
  records.forEach((record, index) => {
    const verdict = assistantVerdict(record);
    if (verdict === null) {
      dropped.malformed++;
    } else if (options.dropLabelConflicts && record.label !== null && verdict !== record.label) {
      dropped.label_conflict++;
    } else {
      kept.push({ record, index });
    }
  });
  dropped.total = dropped.malformed + dropped.label_conflict;

  const strata = new Map<Stratum, { record: DistillRecord; index: number; rank: number }[]>();
  for (const item of kept) {
    const stratum = stratumOf(item.record);
    const rank = deriveSeed(seed, 'distill-split', item.record.mission, item.record.group_id, stratum);
    const list = strata.get(stratum) ?? [];
    list.push({ ...item, rank });
    strata.set(stratum, list);
  }
  const valIndexes = new Set<number>();
  for (const list of strata.values()) {
    const take = Math.round(list.length * valFraction);
    const ranked = [...list].sort((x, y) => x.rank - y.rank || x.index - y.index);
    for (const item of ranked.slice(0, take)) valIndexes.add(item.index);
  }

  const train: DistillRecord[] = [];
  const val: DistillRecord[] = [];
  for (const item of kept) (valIndexes.has(item.index) ? val : train).push(item.record);
  return {
    train,
    val,
    counts: { input: records.length, train: countStrata(train), val: countStrata(val), dropped },
  };
}

export function countStrata(records: readonly DistillRecord[]): StratumCounts {
  const counts: StratumCounts = { pass: 0, fail: 0, unlabeled: 0, total: records.length };
  for (const record of records) counts[stratumOf(record)]++;
  return counts;
}
