import { judgeRun, summarizeDisturbance, type DisturbanceRule, type DisturbanceSummary, type Judgement, type RateSamples } from '../shared/disturbance';

/** The host probe's rates right before and right after one path's run of one batch. */
export type BatchSample = { path: number; batch: number; before: RateSamples; after: RateSamples };

export type ServerFigures = {
  /** One judgement per batch index: disturbed when any path's run of that batch was. */
  batches: Judgement[];
  summary: DisturbanceSummary;
  /** Tickets per second of each path over the kept batches only (null when none is kept). */
  rates: (number | null)[];
  keptTickets: number;
};

/**
 * bench:server's figures under the disturbance rule. The paths run interleaved, batch by batch, and the ratios compare
 * them on the same batches, so a batch is left out of every path's figure when any path's run of it was disturbed.
 */
export function serverFigures(input: {
  samples: readonly BatchSample[];
  /** batchSeconds[path][batch]. */
  batchSeconds: readonly (readonly number[])[];
  /** Tickets in each batch. */
  batchTickets: readonly number[];
  labels: readonly string[];
  rule: DisturbanceRule;
  maxDisturbedFraction: number;
}): ServerFigures {
  const batches: Judgement[] = input.batchTickets.map((_, batch) => {
    const runs = input.samples
      .filter((s) => s.batch === batch)
      .map((s) => judgeRun({ label: `batch ${batch} ${input.labels[s.path] ?? `path ${s.path}`}`, before: s.before, after: s.after }, input.rule));
    const missing = runs.length < input.batchSeconds.length;
    return {
      label: `batch ${batch}`,
      disturbed: missing || runs.some((r) => r.disturbed),
      reasons: runs.flatMap((r) => r.reasons),
    };
  });
  const summary = summarizeDisturbance(batches, { maxDisturbedFraction: input.maxDisturbedFraction, what: 'batches' });
  const kept = batches.map((j, batch) => (j.disturbed ? -1 : batch)).filter((batch) => batch >= 0);
  const keptTickets = kept.reduce((sum, batch) => sum + input.batchTickets[batch], 0);
  const rates = input.batchSeconds.map((seconds) => {
    const time = kept.reduce((sum, batch) => sum + seconds[batch], 0);
    return kept.length > 0 && time > 0 ? keptTickets / time : null;
  });
  return { batches, summary, rates, keptTickets };
}
