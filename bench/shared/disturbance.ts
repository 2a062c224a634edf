/**
 * The disturbance rule every bench that prints a ratio against a floor or a baseline applies (bench:rollout,
 * bench:workbench; meant for bench:server and bench:renderer too). Pure: no IO, no clock, no model.
 *
 * Why: on a shared machine another job can slow the host down for part of a run. A figure built from rates measured
 * on one stretch and times measured on another is an artefact (a floor fraction above 1, a speedup taken against a
 * path that ran while the host was slow). So every measured run is bracketed by rate samples (tokens/s, MB/s:
 * anything where higher means faster), taken right before and right after it, and the run is *disturbed* when
 * - a rate it depends on changed by more than `rateTolerance` between before and after
 *   (relative change |after − before| / max(before, after); a rate missing, zero or not finite on either side also
 *   counts), or
 * - its measured time is below its floor (the least time it can take at the rates measured around it): a run cannot
 *   beat its floor, so the rates under the floor are wrong.
 * A disturbed run is repeated (up to a bound, `repeatUntilUndisturbed`) where a repeat is the same work, or left out
 * of the figures, and the bench says which. A run with more disturbed runs than `maxDisturbedFraction` allows ends
 * non-zero with `summary.reason`.
 *
 * API:
 * - `judgeRun(observation, rule)` → `Judgement` (label, disturbed, reasons);
 * - `describeDisturbance(reason)` → one line of text for the bench's output;
 * - `summarizeDisturbance(judgements, { maxDisturbedFraction })` → kept / disturbed, `tooMany` and the reason;
 * - `repeatUntilUndisturbed(measure, { maxAttempts, rule })` → the first undisturbed attempt, or the last one marked;
 * - `reportableFraction(value)` → the value where it is a possible fraction of a floor (0 < value ≤ 1), else null;
 * - `relativeChange(before, after)`.
 */

/** Rates sampled around one run, by name; higher is faster. */
export type RateSamples = Readonly<Record<string, number>>;

/** One measured run and what it is judged on. */
export type RunObservation = {
  /** What the bench calls the run in its output ("batch 2B", "cold open"). */
  label: string;
  /** The rates the run's figures depend on, measured right before it. */
  before: RateSamples;
  /** The same rates, measured right after it. */
  after: RateSamples;
  /** The run's measured time, seconds (only needed with a floor). */
  seconds?: number;
  /** The least time the run can take at the rates measured around it, seconds; absent where the bench has no floor. */
  floorSeconds?: number;
};

export type DisturbanceRule = {
  /** Largest relative change of any rate between before and after that still counts as steady (0.25 = 25%). */
  rateTolerance: number;
};

/** 25%: the host's own drift between two samples a batch apart stayed within about 20% on an idle machine (docs/performance.md). */
export const DEFAULT_RATE_TOLERANCE = 0.25;

export type Disturbance =
  | { kind: 'rate_change'; rate: string; before: number; after: number; change: number; tolerance: number }
  | { kind: 'rate_missing'; rate: string; before: number | undefined; after: number | undefined }
  | { kind: 'below_floor'; seconds: number; floorSeconds: number };

export type Judgement = { label: string; disturbed: boolean; reasons: Disturbance[] };

/** |after − before| / max(before, after): symmetric, so a collapse and a recovery of the same size count the same. */
export function relativeChange(before: number, after: number): number {
  const larger = Math.max(before, after);
  return larger > 0 ? Math.abs(after - before) / larger : 0;
}

const usableRate = (value: number | undefined): value is number => value !== undefined && Number.isFinite(value) && value > 0;

export function judgeRun(observation: RunObservation, rule: DisturbanceRule): Judgement {
  const reasons: Disturbance[] = [];
  const names = [...new Set([...Object.keys(observation.before), ...Object.keys(observation.after)])];
  for (const rate of names) {
    const before = observation.before[rate];
    const after = observation.after[rate];
    if (!usableRate(before) || !usableRate(after)) {
      reasons.push({ kind: 'rate_missing', rate, before, after });
      continue;
    }
    const change = relativeChange(before, after);
    if (change > rule.rateTolerance) reasons.push({ kind: 'rate_change', rate, before, after, change, tolerance: rule.rateTolerance });
  }
  const { seconds, floorSeconds } = observation;
  if (seconds !== undefined && floorSeconds !== undefined && seconds < floorSeconds) reasons.push({ kind: 'below_floor', seconds, floorSeconds });
  return { label: observation.label, disturbed: reasons.length > 0, reasons };
}

const round = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : String(Number(n.toPrecision(3))));

export function describeDisturbance(reason: Disturbance): string {
  switch (reason.kind) {
    case 'rate_change':
      return `${reason.rate} ${round(reason.before)} → ${round(reason.after)} (${(100 * reason.change).toFixed(0)}% > ${(100 * reason.tolerance).toFixed(0)}%)`;
    case 'rate_missing':
      return `${reason.rate} not measured on both sides (${String(reason.before)} → ${String(reason.after)})`;
    case 'below_floor':
      return `took ${reason.seconds.toFixed(1)} s, below its floor of ${reason.floorSeconds.toFixed(1)} s (the floor's rates were measured on a disturbed host)`;
  }
}

/** "batch 3B: disturbed — …; …" or "batch 1A: steady". */
export function describeJudgement(judgement: Judgement): string {
  return judgement.disturbed ? `${judgement.label}: disturbed — ${judgement.reasons.map(describeDisturbance).join('; ')}` : `${judgement.label}: steady`;
}

export type DisturbanceSummary = {
  total: number;
  kept: Judgement[];
  disturbed: Judgement[];
  /** More disturbed than `maxDisturbedFraction` of the total, or nothing kept: the run has no result. */
  tooMany: boolean;
  /** Why the run has no result, when `tooMany`. */
  reason: string | null;
};

export function summarizeDisturbance(judgements: readonly Judgement[], options: { maxDisturbedFraction: number; what?: string }): DisturbanceSummary {
  const what = options.what ?? 'runs';
  const disturbed = judgements.filter((j) => j.disturbed);
  const kept = judgements.filter((j) => !j.disturbed);
  const total = judgements.length;
  let reason: string | null = null;
  if (total > 0 && kept.length === 0) reason = `all ${total} ${what} were disturbed, so nothing is left to report`;
  else if (disturbed.length > options.maxDisturbedFraction * total)
    reason = `${disturbed.length} of ${total} ${what} were disturbed, more than the ${(100 * options.maxDisturbedFraction).toFixed(0)}% allowed (the host was too busy for honest figures; rerun on a quieter machine)`;
  return { total, kept, disturbed, tooMany: reason !== null, reason };
}

/**
 * Runs `measure` until an attempt is undisturbed, at most `maxAttempts` times (≥ 1). Only for runs a repeat
 * reproduces exactly (a fresh process, no state carried over from the last attempt).
 */
export async function repeatUntilUndisturbed<T>(
  measure: (attempt: number) => Promise<{ value: T; observation: RunObservation }>,
  options: { maxAttempts: number; rule: DisturbanceRule; onDisturbed?: (judgement: Judgement, attempt: number) => void },
): Promise<{ value: T; judgement: Judgement; attempts: number }> {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  let last: { value: T; judgement: Judgement; attempts: number } | null = null;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const { value, observation } = await measure(attempt);
    const judgement = judgeRun(observation, options.rule);
    last = { value, judgement, attempts: attempt };
    if (!judgement.disturbed) return last;
    options.onDisturbed?.(judgement, attempt);
  }
  return last as { value: T; judgement: Judgement; attempts: number };
}

/** A fraction of a floor as a result: only where it is possible (0 < value ≤ 1); null otherwise. */
export function reportableFraction(value: number): number | null {
  return Number.isFinite(value) && value > 0 && value <= 1 ? value : null;
}
