import type { IneligibleReason, Uplift } from '../../../shared/schemas/records';
import type { RunConfig } from '../../../shared/schemas/runConfig';
import { rates } from '../../../shared/metrics/rates';
import { pairedBootstrapUpliftProbability } from '../../../shared/metrics/pairedBootstrapUpliftProbability';
import type { HoldoutRow } from './reflectionArtifacts';

/** Float noise (0.6 - 0.5 = 0.0999…) must not decide a gate. */
const EPSILON = 1e-9;

export type GateDecision = {
  apply: boolean;
  reason: IneligibleReason | null;
  pre: Uplift | null;
  post: Uplift | null;
  uplift_probability: number | null;
  checks: {
    label_match_delta: number | null;
    false_release_delta: number | null;
    paired_items: number;
  };
};

function toUplift(rows: readonly HoldoutRow[]): Uplift | null {
  const r = rates(rows);
  if (r.label_match_rate === null) return null;
  // No fail ticket on the holdout: nothing can be falsely released, so the rate is 0.
  return { label_match_rate: r.label_match_rate, false_release_rate: r.false_release_rate ?? 0, n: r.labelled };
}

/**
 * The holdout gate. A plan is applied only when, on the same holdout tickets,
 *   post.label_match_rate - pre.label_match_rate >= apply_if_delta, and
 *   post.false_release_rate - pre.false_release_rate <= max_false_release_increase.
 * The false-release check comes first: when both fail, the safety reason is recorded.
 * Without a labelled holdout the decision is 'no_holdout' — a plan is never applied blind.
 * The paired-bootstrap probability that the uplift is > 0 is reported, not gated on
 * (apply_if_delta is the configured rule); pairs are matched by ticket_key.
 */
export function decideGate(input: {
  baselineRows: readonly HoldoutRow[];
  previewRows: readonly HoldoutRow[];
  config: Pick<RunConfig['reflection'], 'apply_if_delta' | 'max_false_release_increase' | 'bootstrap_samples'>;
  seed: number;
}): GateDecision {
  const pre = toUplift(input.baselineRows);
  const post = toUplift(input.previewRows);
  const previewByKey = new Map(input.previewRows.map((r) => [r.ticket_key, r]));
  const baselineCorrect: boolean[] = [];
  const previewCorrect: boolean[] = [];
  for (const row of input.baselineRows) {
    const other = previewByKey.get(row.ticket_key);
    if (!other) continue;
    baselineCorrect.push(row.verdict === row.label);
    previewCorrect.push(other.verdict === other.label);
  }
  if (pre === null || post === null) {
    return { apply: false, reason: 'no_holdout', pre, post, uplift_probability: null, checks: { label_match_delta: null, false_release_delta: null, paired_items: baselineCorrect.length } };
  }
  const uplift_probability = pairedBootstrapUpliftProbability(baselineCorrect, previewCorrect, input.config.bootstrap_samples, input.seed);
  const label_match_delta = post.label_match_rate - pre.label_match_rate;
  const false_release_delta = post.false_release_rate - pre.false_release_rate;
  let reason: IneligibleReason | null = null;
  if (false_release_delta > input.config.max_false_release_increase + EPSILON) reason = 'holdout_false_release_increase';
  else if (label_match_delta + EPSILON < input.config.apply_if_delta) reason = 'holdout_no_uplift';
  return {
    apply: reason === null,
    reason,
    pre,
    post,
    uplift_probability,
    checks: { label_match_delta, false_release_delta, paired_items: baselineCorrect.length },
  };
}
