import { rates } from '../../shared/metrics/rates';
import { pairedBootstrap } from '../../shared/metrics/pairedBootstrap';
import { StageBError } from '../../shared/errors';
import type { HoldoutComparison, HoldoutRates, HoldoutVerdict, PairedDifference, VerdictChange } from '../../shared/schemas/holdoutComparison';

function holdoutRates(rows: readonly HoldoutVerdict[]): HoldoutRates {
  const r = rates(rows);
  return { label_match_rate: r.label_match_rate, false_release_rate: r.false_release_rate, labelled: r.labelled, fail_tickets: rows.filter((row) => row.label === 'fail').length };
}

function difference(baseline: boolean[], candidate: boolean[], samples: number, seed: number): { difference: PairedDifference; probability: number | null } {
  const b = pairedBootstrap(baseline, candidate, samples, seed);
  return { difference: { estimate: b.estimate, lower: b.lower, upper: b.upper, n: b.n }, probability: b.n === 0 ? null : b.probabilityPositive };
}

/**
 * Candidate vs baseline guidance on the same holdout tickets, paired by ticket_key:
 * both rates (src/shared/metrics/rates.ts), candidate - baseline for label_match (over
 * every ticket) and false release (over the fail tickets: released = verdict 'pass') with
 * 95 % paired-bootstrap intervals, P(label_match uplift > 0) as the reflection gate reads it
 * (same pairing, same bootstrap, same seed), and the tickets whose verdict changed.
 * Both sides must hold exactly the same tickets.
 */
export function compareOnHoldout(
  baselineRows: readonly HoldoutVerdict[],
  candidateRows: readonly HoldoutVerdict[],
  bootstrap: { samples: number; seed: number },
): HoldoutComparison {
  const candidateByKey = new Map(candidateRows.map((row) => [row.ticket_key, row]));
  if (candidateByKey.size !== baselineRows.length || baselineRows.some((row) => !candidateByKey.has(row.ticket_key))) {
    throw new StageBError('INTERNAL', `a holdout comparison needs the same tickets on both sides (${baselineRows.length} baseline, ${candidateRows.length} candidate rows)`);
  }
  const matchBase: boolean[] = [];
  const matchCand: boolean[] = [];
  const releaseBase: boolean[] = [];
  const releaseCand: boolean[] = [];
  const changed: VerdictChange[] = [];
  for (const row of baselineRows) {
    const other = candidateByKey.get(row.ticket_key)!;
    matchBase.push(row.verdict !== null && row.verdict === row.label);
    matchCand.push(other.verdict !== null && other.verdict === other.label);
    if (row.label === 'fail') {
      releaseBase.push(row.verdict === 'pass');
      releaseCand.push(other.verdict === 'pass');
    }
    if (row.verdict !== other.verdict) changed.push({ ticket_key: row.ticket_key, label: row.label, before: row.verdict, after: other.verdict });
  }
  const labelMatch = difference(matchBase, matchCand, bootstrap.samples, bootstrap.seed);
  const falseRelease = difference(releaseBase, releaseCand, bootstrap.samples, bootstrap.seed);
  return {
    baseline: holdoutRates(baselineRows),
    candidate: holdoutRates(candidateRows),
    label_match_difference: labelMatch.difference,
    false_release_difference: falseRelease.difference,
    uplift_probability: labelMatch.probability,
    changed_tickets: changed,
    bootstrap,
  };
}
