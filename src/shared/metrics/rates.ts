import type { GroupLabel } from '../verdict';

export type RateRow = { label: GroupLabel | null; verdict: GroupLabel | null };

export type Rates = {
  /** matches / labelled rows; null when no row is labelled. */
  label_match_rate: number | null;
  /** (label=fail rows whose verdict is pass) / (label=fail rows); null when there is no fail row. */
  false_release_rate: number | null;
  /** Rows with a non-null label (the denominator of label_match_rate). */
  labelled: number;
};

/**
 * The two headline rates of a run, a batch or a holdout evaluation.
 *
 * - Unlabelled rows (label = null) are ignored entirely.
 * - A null verdict (malformed / no selection) on a labelled row counts as NOT a match
 *   (it stays in the label_match denominator), and on a fail row it is NOT a release:
 *   only an explicit `pass` verdict releases a bad installation.
 * - A rate with an empty denominator is null, never 0 or 1, so callers cannot mistake
 *   "nothing measured" for a perfect or a hopeless score.
 */
export function rates(rows: readonly RateRow[]): Rates {
  let labelled = 0;
  let matches = 0;
  let failRows = 0;
  let releases = 0;
  for (const row of rows) {
    if (row.label === null) continue;
    labelled++;
    if (row.verdict !== null && row.verdict === row.label) matches++;
    if (row.label === 'fail') {
      failRows++;
      if (row.verdict === 'pass') releases++;
    }
  }
  return {
    label_match_rate: labelled === 0 ? null : matches / labelled,
    false_release_rate: failRows === 0 ? null : releases / failRows,
    labelled,
  };
}
