import type { GroupLabel } from '../../shared/verdict';

export type SelectableCandidate = {
  candidate_index: number;
  verdict: GroupLabel | null;
  confidence: number | null;
};

export type SelectionOutcome = {
  selected: number | null;
  verdict: GroupLabel | null;
  vote: { pass: number; fail: number; malformed: number };
  rule: string;
};

export const SELECTION_RULE = 'majority_vote;tie->fail;then max confidence;then lowest candidate_index';

/**
 * Deterministic selection, documented in docs/signals.md:
 * 1. majority verdict among well-formed candidates;
 * 2. a tie goes to fail — a false release (label=fail, verdict=pass) is the costly error;
 * 3. among candidates with that verdict, highest confidence (missing counts as 0);
 * 4. then the lowest candidate index.
 * The human label is never consulted, so selection behaves the same in inference-only runs.
 */
export function selectCandidate(candidates: SelectableCandidate[]): SelectionOutcome {
  const vote = { pass: 0, fail: 0, malformed: 0 };
  for (const candidate of candidates) {
    if (candidate.verdict === 'pass') vote.pass++;
    else if (candidate.verdict === 'fail') vote.fail++;
    else vote.malformed++;
  }
  if (vote.pass + vote.fail === 0) return { selected: null, verdict: null, vote, rule: SELECTION_RULE };
  const verdict: GroupLabel = vote.pass > vote.fail ? 'pass' : 'fail';
  let best: SelectableCandidate | null = null;
  for (const candidate of candidates) {
    if (candidate.verdict !== verdict) continue;
    if (
      best === null ||
      (candidate.confidence ?? 0) > (best.confidence ?? 0) ||
      ((candidate.confidence ?? 0) === (best.confidence ?? 0) && candidate.candidate_index < best.candidate_index)
    ) {
      best = candidate;
    }
  }
  return { selected: best!.candidate_index, verdict, vote, rule: SELECTION_RULE };
}
