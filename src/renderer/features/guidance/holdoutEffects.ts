import type { AttributionResult, PairedDifference, RuleAttribution } from '../../../shared/schemas/holdoutComparison';
import type { JobProgress } from '../launcher/jobProgress';

/** A difference of rates in percentage points with its 95 % interval: "+6.3 pts [−6.3, +18.8]". */
export function formatDifference(d: PairedDifference): string {
  if (d.estimate === null) return 'n/a (no paired tickets)';
  const pts = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x * 100).toFixed(1)}`;
  const interval = d.lower !== null && d.upper !== null ? ` [${pts(d.lower)}, ${pts(d.upper)}]` : '';
  return `${pts(d.estimate)} pts${interval}`;
}

/** What an interval says, in words a reviewer can act on. */
export function readInterval(d: PairedDifference, better: 'up' | 'down'): 'better' | 'worse' | 'unclear' {
  if (d.lower === null || d.upper === null) return 'unclear';
  if (d.lower > 0) return better === 'up' ? 'better' : 'worse';
  if (d.upper < 0) return better === 'up' ? 'worse' : 'better';
  return 'unclear';
}

/** The measured effect of each rule, by rule_id (keys move, ids do not). */
export function effectsByRuleId(result: AttributionResult | null): Map<string, RuleAttribution> {
  return new Map((result?.rules ?? []).map((rule) => [rule.rule_id, rule]));
}

/**
 * 0..1 of a holdout job. The engine (composeHoldoutStudy) counts ticket evaluations over
 * all guidance variants in groups_done of groups_total (attribution: the whole guidance
 * and one variant per rule; preview: current and draft); batch_index of batches names
 * the variant being evaluated.
 */
export function holdoutJobFraction(p: JobProgress): number | null {
  if (p.status === 'completed') return 1;
  if (p.groupsTotal <= 0) return null;
  return Math.min(1, p.groupsDone / p.groupsTotal);
}

export function isRunning(p: JobProgress | null): boolean {
  return p !== null && (p.status === 'starting' || p.status === 'running');
}
