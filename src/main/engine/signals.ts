import type { GroupLabel } from '../../shared/verdict';
import type { Signals } from '../../shared/schemas/signals';

export type CandidateOutcome = {
  verdict: GroupLabel | null;
  confidence: number | null;
};

/**
 * Deterministic signals for every candidate of one group (definitions in
 * docs/signals.md and src/shared/schemas/signals.ts). label_trust uses Laplace
 * smoothing, (agree + 1) / (n + 2), so a label that every candidate contradicts
 * loses trust gradually rather than dropping to zero on a small K.
 */
export function computeGroupSignals(candidates: CandidateOutcome[], label: GroupLabel | null): Signals[] {
  const wellFormed = candidates.filter((candidate) => candidate.verdict !== null);
  const passes = wellFormed.filter((candidate) => candidate.verdict === 'pass').length;
  const fails = wellFormed.length - passes;
  const agreement = wellFormed.length === 0 ? null : passes === 0 || fails === 0;
  const labelTrust =
    label === null || wellFormed.length === 0
      ? null
      : ((label === 'pass' ? passes : fails) + 1) / (wellFormed.length + 2);
  return candidates.map((candidate) => {
    if (candidate.verdict === null) {
      return { label_match: null, self_consistency: null, candidate_agreement: agreement, confidence: candidate.confidence, label_trust: labelTrust };
    }
    const same = candidate.verdict === 'pass' ? passes : fails;
    return {
      label_match: label === null ? null : candidate.verdict === label,
      self_consistency: same / wellFormed.length,
      candidate_agreement: agreement,
      confidence: candidate.confidence,
      label_trust: labelTrust,
    };
  });
}
