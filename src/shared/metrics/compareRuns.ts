import { z } from 'zod';
import type { SelectionRecord } from '../schemas/records';
import { differenceInterval } from './differenceInterval';
import { wilsonInterval } from './wilsonInterval';

export const IntervalSchema = z.object({ lower: z.number(), upper: z.number() });
export type Interval = z.infer<typeof IntervalSchema>;

export type RunSelections = { name: string; selections: readonly SelectionRecord[] };

export const RateEstimateSchema = z.object({
  successes: z.number().int().nonnegative(),
  n: z.number().int().nonnegative(),
  rate: z.number().nullable(),
  ci: IntervalSchema.nullable(),
});
export type RateEstimate = z.infer<typeof RateEstimateSchema>;
export const RateDifferenceSchema = z.object({ estimate: z.number(), ci: IntervalSchema }).nullable();
export type RateDifference = z.infer<typeof RateDifferenceSchema>;

export const MetricComparisonSchema = z.object({ a: RateEstimateSchema, b: RateEstimateSchema, diff: RateDifferenceSchema });
export type MetricComparison = z.infer<typeof MetricComparisonSchema>;

export const ComparisonRowSchema = z.object({
  /** Groups counted (last epoch per group), labelled or not. */
  groups: z.object({ a: z.number().int().nonnegative(), b: z.number().int().nonnegative() }),
  /** verdict = label, over labelled groups; a malformed verdict counts as a miss. */
  label_match: MetricComparisonSchema,
  /** label = fail and verdict = pass, over label = fail groups. */
  false_release: MetricComparisonSchema,
});
export type ComparisonRow = z.infer<typeof ComparisonRowSchema>;

/** What `stageb compare --json` prints and the workbench's compare screen shows. */
export const RunComparisonSchema = z.object({
  a: z.string(),
  b: z.string(),
  overall: ComparisonRowSchema,
  missions: z.record(z.string(), ComparisonRowSchema),
});
export type RunComparison = z.infer<typeof RunComparisonSchema>;

/**
 * The selection that counts for each group of a run: the one from the run's
 * last epoch for that group (later epochs ran under the most evolved guidance,
 * and that is the run's final answer). Among rows of the same epoch the last
 * written wins, as a resumed run may append a group again.
 */
export function finalSelections(selections: readonly SelectionRecord[]): SelectionRecord[] {
  const byGroup = new Map<string, SelectionRecord>();
  for (const row of selections) {
    const key = `${row.mission}\u0000${row.ticket_key}`;
    const seen = byGroup.get(key);
    if (!seen || row.epoch >= seen.epoch) byGroup.set(key, row);
  }
  return [...byGroup.values()];
}

function rate(successes: number, n: number): RateEstimate {
  if (n === 0) return { successes, n, rate: null, ci: null };
  const w = wilsonInterval(successes, n);
  return { successes, n, rate: successes / n, ci: { lower: w.lower, upper: w.upper } };
}

function tally(rows: readonly SelectionRecord[]) {
  let labelled = 0;
  let matched = 0;
  let fails = 0;
  let released = 0;
  for (const row of rows) {
    if (row.label === null) continue;
    labelled++;
    if (row.verdict === row.label) matched++;
    if (row.label === 'fail') {
      fails++;
      if (row.verdict === 'pass') released++;
    }
  }
  return { groups: rows.length, labelMatch: rate(matched, labelled), falseRelease: rate(released, fails) };
}

/** b − a with Newcombe's hybrid score interval (src/shared/metrics). */
function compareMetric(a: RateEstimate, b: RateEstimate): MetricComparison {
  const d = differenceInterval(b.successes, b.n, a.successes, a.n);
  return { a, b, diff: d.estimate === null ? null : { estimate: d.estimate, ci: { lower: d.lower, upper: d.upper } } };
}

/** label_match and false-release of two sets of final selections (one row per group), b − a with its interval. */
export function compareRows(a: readonly SelectionRecord[], b: readonly SelectionRecord[]): ComparisonRow {
  const ta = tally(a);
  const tb = tally(b);
  return {
    groups: { a: ta.groups, b: tb.groups },
    label_match: compareMetric(ta.labelMatch, tb.labelMatch),
    false_release: compareMetric(ta.falseRelease, tb.falseRelease),
  };
}

/**
 * label_match and false-release rate of two runs, overall and per mission, with 95% CIs and b − a.
 *
 * The difference interval treats the runs as independent samples. When both runs
 * judged the same tickets (the usual A/B of two students) the samples are
 * positively correlated and the interval is conservative — an interval that
 * excludes 0 is then convincing; one that includes 0 may still hide a real effect.
 */
export function compareRuns(a: RunSelections, b: RunSelections): RunComparison {
  const finalA = finalSelections(a.selections);
  const finalB = finalSelections(b.selections);
  const missions = [...new Set([...finalA, ...finalB].map((row) => row.mission))].sort();
  const perMission: Record<string, ComparisonRow> = {};
  for (const mission of missions) {
    perMission[mission] = compareRows(
      finalA.filter((row) => row.mission === mission),
      finalB.filter((row) => row.mission === mission),
    );
  }
  return { a: a.name, b: b.name, overall: compareRows(finalA, finalB), missions: perMission };
}
