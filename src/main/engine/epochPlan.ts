import type { Ticket } from '../../shared/schemas/stageARecord';
import { deriveSeed, shuffled } from '../../shared/random';
import { stratifiedQuotas } from './stratifiedQuotas';

/**
 * Holdout: labelled tickets only, stratified by label, seeded, capped, and disjoint from
 * training. Unlabelled tickets always train (inference-only runs). Whenever the input
 * has both labels the holdout has both (a holdout without a fail ticket cannot see a
 * false release): a label with a single ticket gives it to the holdout, otherwise
 * training keeps at least one ticket of each label.
 */
export function splitHoldout(
  tickets: Ticket[],
  options: { fraction: number; max: number; seed: number },
): { train: Ticket[]; holdout: Ticket[] } {
  if (options.fraction <= 0) return { train: tickets.slice(), holdout: [] };
  const labelled = tickets.filter((ticket) => ticket.label !== null);
  const byLabel = (['fail', 'pass'] as const).map((label) => labelled.filter((ticket) => ticket.label === label));
  const labels = byLabel.filter((group) => group.length > 0).length;
  const total = Math.min(options.max, Math.max(Math.floor(labelled.length * options.fraction), labels > 1 ? labels : 0));
  if (total === 0) return { train: tickets.slice(), holdout: [] };
  const held = new Set<string>();
  const caps = byLabel.map((group) => (group.length === 1 ? 1 : Math.max(0, group.length - 1)));
  const quotas = stratifiedQuotas(byLabel.map((group) => group.length), total, caps);
  byLabel.forEach((group, i) => {
    const picked = shuffled(group, deriveSeed(options.seed, 'holdout', i)).slice(0, quotas[i]);
    for (const ticket of picked) held.add(ticket.ticket_key);
  });
  return {
    train: tickets.filter((ticket) => !held.has(ticket.ticket_key)),
    holdout: tickets.filter((ticket) => held.has(ticket.ticket_key)),
  };
}

/** The epoch's ticket order (seeded shuffle) cut into batches. */
export function planEpoch(tickets: Ticket[], options: { epoch: number; seed: number; shuffle: boolean; batchSize: number }): Ticket[][] {
  const ordered = options.shuffle ? shuffled(tickets, deriveSeed(options.seed, 'epoch', options.epoch)) : tickets.slice();
  const batches: Ticket[][] = [];
  for (let i = 0; i < ordered.length; i += options.batchSize) batches.push(ordered.slice(i, i + options.batchSize));
  return batches;
}

/**
 * runner.max_tickets: `limit` tickets stratified by label (fail, pass, unlabelled), so
 * every label of the input stays in whenever the limit allows it; within a label the
 * first ones in file order, and the result in file order. The first N lines alone can
 * all carry one label (on bbu_wind the first 48 are all pass).
 */
export function limitTickets<T extends { label: 'pass' | 'fail' | null }>(tickets: readonly T[], limit: number): T[] {
  if (limit >= tickets.length) return tickets.slice();
  const labels = ['fail', 'pass', null] as const;
  const groups = labels.map((label) => tickets.filter((ticket) => ticket.label === label));
  const quotas = stratifiedQuotas(groups.map((group) => group.length), limit);
  const kept = new Set(groups.flatMap((group, i) => group.slice(0, quotas[i])));
  return tickets.filter((ticket) => kept.has(ticket));
}
