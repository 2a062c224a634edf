import type { Ticket } from '../../shared/schemas/stageARecord';
import { deriveSeed, shuffled } from '../../shared/random';

/**
 * Holdout: labelled tickets only, stratified by label, seeded, capped, and
 * disjoint from training. Unlabelled tickets always train (inference-only runs).
 */
export function splitHoldout(
  tickets: Ticket[],
  options: { fraction: number; max: number; seed: number },
): { train: Ticket[]; holdout: Ticket[] } {
  if (options.fraction <= 0) return { train: tickets.slice(), holdout: [] };
  const labelled = tickets.filter((ticket) => ticket.label !== null);
  const total = Math.min(options.max, Math.floor(labelled.length * options.fraction));
  if (total === 0) return { train: tickets.slice(), holdout: [] };
  const held = new Set<string>();
  const byLabel = (['fail', 'pass'] as const).map((label) => labelled.filter((ticket) => ticket.label === label));
  const quotas = byLabel.map((group) => Math.round((group.length / labelled.length) * total));
  byLabel.forEach((group, i) => {
    const picked = shuffled(group, deriveSeed(options.seed, 'holdout', i)).slice(0, Math.min(quotas[i], Math.max(0, group.length - 1)));
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
