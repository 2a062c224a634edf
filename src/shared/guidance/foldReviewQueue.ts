import type { ReviewItem, ReviewQueueEntry } from '../schemas/reviewQueue';

/**
 * The review queue's items from its append-only log, in proposal order: the first
 * proposal row of an id counts (a resumed run may append it again), and the first
 * decision for it is final (a second accept or dismiss is refused before it is written).
 */
export function foldReviewQueue(entries: readonly ReviewQueueEntry[]): ReviewItem[] {
  const items = new Map<string, ReviewItem>();
  for (const entry of entries) {
    if (entry.type === 'proposal') {
      if (items.has(entry.item_id)) continue;
      const { type: _type, ...proposal } = entry;
      items.set(entry.item_id, { ...proposal, status: 'pending', decision: null });
    } else {
      const item = items.get(entry.item_id);
      if (!item || item.decision) continue;
      const { type: _type, item_id: _id, ...decision } = entry;
      item.decision = decision;
      item.status = entry.decision;
    }
  }
  return [...items.values()];
}
