import type { IneligibleReason, Uplift } from '../../../shared/schemas/records';
import type { RunConfig } from '../../../shared/schemas/runConfig';
import { rates } from '../../../shared/metrics/rates';
import { pairedBootstrapUpliftProbability } from '../../../shared/metrics/pairedBootstrapUpliftProbability';
import type { HoldoutRow } from './reflectionArtifacts';
import type { VerdictChange } from '../../../shared/schemas/holdoutComparison';
import { pairHoldoutRows } from '../compareOnHoldout';

/** Float noise (0.6 - 0.5 = 0.0999…) must not decide a gate. */
const EPSILON = 1e-9;

export type GateConfig = Pick<
  RunConfig['reflection'],
  'apply_if_delta' | 'max_false_release_increase' | 'bootstrap_samples' | 'min_uplift_probability' | 'apply_unchanged_verdicts' | 'allow_holdout_without_fail'
>;

export type { VerdictChange } from '../../../shared/schemas/holdoutComparison';

export type GateDecision = {
  apply: boolean;
  reason: IneligibleReason | null;
  /** One sentence a person can read: what the gate saw and why it decided so. */
  why: string;
  pre: Uplift | null;
  post: Uplift | null;
  uplift_probability: number | null;
  checks: {
    label_match_delta: number | null;
    false_release_delta: number | null;
    paired_items: number;
    fail_tickets: number;
    changed_verdicts: number;
    changed_tickets: VerdictChange[];
  };
};

function toUplift(rows: readonly HoldoutRow[]): Uplift | null {
  const r = rates(rows);
  if (r.label_match_rate === null) return null;
  return { label_match_rate: r.label_match_rate, false_release_rate: r.false_release_rate ?? 0, n: r.labelled };
}

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
const signed = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} pp`;

/**
 * Refuses a holdout that cannot gate at all, before any preview rollout: no labelled row
 * ('no_holdout'), or no fail ticket ('holdout_no_fail_ticket' unless
 * allow_holdout_without_fail): such a holdout cannot see a false release, the costly error.
 */
export function refuseHoldout(baselineRows: readonly HoldoutRow[], config: Pick<GateConfig, 'allow_holdout_without_fail'>): { reason: IneligibleReason; why: string } | null {
  if (toUplift(baselineRows) === null) return { reason: 'no_holdout', why: 'there is no labelled holdout ticket, and a plan is never applied blind' };
  const fails = baselineRows.filter((row) => row.label === 'fail').length;
  if (fails === 0 && !config.allow_holdout_without_fail) {
    return {
      reason: 'holdout_no_fail_ticket',
      why: `the holdout has ${baselineRows.length} tickets and none is labelled fail, so it cannot see a false release; plans are refused (reflection.allow_holdout_without_fail)`,
    };
  }
  return null;
}

/**
 * The holdout gate. On the same holdout tickets (paired by ticket_key), a plan is applied
 * only when every condition holds, checked in this order (the first failure is the reason):
 *  1. the holdout can gate (refuseHoldout);
 *  2. post.false_release_rate - pre.false_release_rate <= max_false_release_increase;
 *  3. at least one verdict changed (unless apply_unchanged_verdicts): a plan that changes
 *     nothing has shown nothing;
 *  4. post.label_match_rate - pre.label_match_rate >= apply_if_delta (the spec's rule);
 *  5. the paired-bootstrap probability that the uplift is > 0 reaches min_uplift_probability.
 */
export function decideGate(input: { baselineRows: readonly HoldoutRow[]; previewRows: readonly HoldoutRow[]; config: GateConfig; seed: number }): GateDecision {
  const pre = toUplift(input.baselineRows);
  const post = toUplift(input.previewRows);
  const paired = pairHoldoutRows(input.baselineRows, input.previewRows);
  const changed = paired.changed;
  const failTickets = input.baselineRows.filter((row) => row.label === 'fail').length;
  const base = { paired_items: paired.baselineMatch.length, fail_tickets: failTickets, changed_verdicts: changed.length, changed_tickets: changed };
  const refused = refuseHoldout(input.baselineRows, input.config) ?? (post === null ? { reason: 'no_holdout' as const, why: 'the preview produced no labelled holdout row' } : null);
  if (refused || pre === null || post === null) {
    return { apply: false, reason: refused?.reason ?? 'no_holdout', why: refused?.why ?? 'no holdout', pre, post, uplift_probability: null, checks: { label_match_delta: null, false_release_delta: null, ...base } };
  }
  const uplift_probability = pairedBootstrapUpliftProbability(paired.baselineMatch, paired.candidateMatch, input.config.bootstrap_samples, input.seed);
  const label_match_delta = post.label_match_rate - pre.label_match_rate;
  const false_release_delta = post.false_release_rate - pre.false_release_rate;
  const seen = `label_match ${pct(pre.label_match_rate)} → ${pct(post.label_match_rate)} (${signed(label_match_delta)}), false release ${pct(pre.false_release_rate)} → ${pct(post.false_release_rate)}, ${changed.length} of ${paired.baselineMatch.length} verdicts changed, P(uplift > 0) = ${uplift_probability.toFixed(3)}`;
  let reason: IneligibleReason | null = null;
  let why = `applied: ${seen}`;
  if (false_release_delta > input.config.max_false_release_increase + EPSILON) {
    reason = 'holdout_false_release_increase';
    why = `${seen}; the false-release rate rose by more than reflection.max_false_release_increase = ${input.config.max_false_release_increase}`;
  } else if (changed.length === 0 && !input.config.apply_unchanged_verdicts) {
    reason = 'holdout_no_verdict_change';
    why = `${seen}; a plan that changes no holdout verdict has shown nothing (reflection.apply_unchanged_verdicts)`;
  } else if (label_match_delta + EPSILON < input.config.apply_if_delta) {
    reason = 'holdout_no_uplift';
    why = `${seen}; the uplift is below reflection.apply_if_delta = ${input.config.apply_if_delta}`;
  } else if (uplift_probability + EPSILON < input.config.min_uplift_probability) {
    reason = 'holdout_uplift_uncertain';
    why = `${seen}; the probability is below reflection.min_uplift_probability = ${input.config.min_uplift_probability}`;
  }
  return { apply: reason === null, reason, why, pre, post, uplift_probability, checks: { label_match_delta, false_release_delta, ...base } };
}
