import type { GroupLabel } from '../verdict';
import type { FoldedQaReview, QaReviewExportRow, QaReviewLogRow, QaReviewRecord } from '../schemas/qaReview';
import type { LabelCorrection } from '../schemas/labelCorrections';

/**
 * qa_reviews.jsonl read as state: the log is append-only, so "the review of an item" is
 * the latest review row for it that no retraction row names. Pure; the file is read by
 * src/main/io/qaReviewsFile.ts.
 */

export type QaReviewLogEntry = { line: number; row: QaReviewLogRow };

/** What a review is about: one selection row (group, ticket, epoch). */
export type QaItemRef = { group_id: string; ticket_key: string | null; epoch: number | null };

export type QaReviewFold = {
  /** Every review no retraction names, in file order. */
  live: FoldedQaReview[];
  /** Ids of retracted reviews. */
  retracted: ReadonlySet<string>;
  /** The current review of each item key (itemKey), the latest live one. */
  current: ReadonlyMap<string, FoldedQaReview>;
};

export function reviewIdOf(review: QaReviewRecord, line: number): string {
  return review.review_id ?? `line-${line}`;
}

export function itemKey(ref: QaItemRef): string {
  return `${ref.group_id}\u0000${ref.ticket_key ?? ''}\u0000${ref.epoch ?? ''}`;
}

function isRetraction(row: QaReviewLogRow): row is Extract<QaReviewLogRow, { type: 'retraction' }> {
  return (row as { type?: unknown }).type === 'retraction';
}

export function foldQaReviews(entries: readonly QaReviewLogEntry[]): QaReviewFold {
  const retracted = new Set<string>();
  for (const { row } of entries) if (isRetraction(row)) retracted.add(row.retracts);
  const live: FoldedQaReview[] = [];
  const current = new Map<string, FoldedQaReview>();
  for (const { line, row } of entries) {
    if (isRetraction(row)) continue;
    const review: FoldedQaReview = { ...row, review_id: reviewIdOf(row, line) };
    if (retracted.has(review.review_id)) continue;
    live.push(review);
    current.set(itemKey(review), review);
  }
  return { live, retracted, current };
}

/**
 * The current review of a queue item. A review recorded without a ticket key (older
 * clients) counts for every ticket of its group and epoch; the later of the two wins.
 */
export function currentReviewFor(fold: QaReviewFold, ref: QaItemRef): FoldedQaReview | null {
  const exact = fold.current.get(itemKey(ref)) ?? null;
  if (ref.ticket_key === null) return exact;
  const groupWide = fold.current.get(itemKey({ ...ref, ticket_key: null })) ?? null;
  if (!exact || !groupWide) return exact ?? groupWide;
  return fold.live.indexOf(exact) > fold.live.indexOf(groupWide) ? exact : groupWide;
}

/** The latest live review, optionally of one reviewer: what "undo last review" takes back. */
export function lastLiveReview(fold: QaReviewFold, reviewer?: string | null): FoldedQaReview | null {
  for (let i = fold.live.length - 1; i >= 0; i -= 1) {
    const review = fold.live[i];
    if (reviewer === undefined || reviewer === null || review.reviewer === reviewer) return review;
  }
  return null;
}

/** What the run knows of a ticket: one selection row's identity and labels. */
export type RunTicketRow = { mission: string; group_id: string; ticket_key: string; epoch: number; label: GroupLabel | null; original_label: GroupLabel | null };

export type TicketResolution = { ok: true; row: RunTicketRow } | { ok: false; reason: string };

/** The ticket a review is about: its own ticket_key, or the only ticket of its group (and epoch) in the run. */
export function resolveReviewTicket(review: QaItemRef, rows: readonly RunTicketRow[]): TicketResolution {
  if (review.ticket_key !== null) {
    const row = rows.find((candidate) => candidate.ticket_key === review.ticket_key);
    return row ? { ok: true, row } : { ok: false, reason: `the run has no selection of ticket ${review.ticket_key}` };
  }
  const matching = rows.filter((row) => row.group_id === review.group_id && (review.epoch === null || row.epoch === review.epoch));
  const keys = [...new Set(matching.map((row) => row.ticket_key))];
  if (keys.length === 1) return { ok: true, row: matching[0] };
  return {
    ok: false,
    reason: keys.length === 0 ? `the run has no selection of group ${review.group_id}` : `group ${review.group_id} has ${keys.length} tickets and the review names none`,
  };
}

/** One row per item's current review, in the order they were reviewed. */
export function exportReviewRows(fold: QaReviewFold, rows: readonly RunTicketRow[], mission: string): QaReviewExportRow[] {
  const current = new Set(fold.current.values());
  return fold.live
    .filter((review) => current.has(review))
    .map((review) => {
      const resolved = resolveReviewTicket(review, rows);
      return {
        mission,
        review_id: review.review_id,
        group_id: review.group_id,
        ticket_key: review.ticket_key ?? (resolved.ok ? resolved.row.ticket_key : null),
        epoch: review.epoch,
        label: resolved.ok ? resolved.row.label : null,
        status: review.status,
        note: review.note,
        reviewer: review.reviewer,
        reviewed_at: review.created_at,
      };
    });
}

export type SkippedCorrection = { review_id: string; group_id: string; reason: string };

/**
 * The label corrections a run's reviews call for: for each ticket, its latest live review
 * (any epoch); when that says label_wrong, the ticket's label in the run flipped. The
 * original label is the Stage-A input's, also when the run itself ran on corrected labels;
 * those corrections (`carried`, the run's own file) stay unless a review overrides them,
 * and a label_wrong review that flips a ticket back to the input's label drops its row.
 */
export function labelCorrectionsFromReviews(
  fold: QaReviewFold,
  rows: readonly RunTicketRow[],
  carried: readonly LabelCorrection[] = [],
): { corrections: LabelCorrection[]; skipped: SkippedCorrection[] } {
  const latestByTicket = new Map<string, { review: FoldedQaReview; row: RunTicketRow }>();
  const skipped: SkippedCorrection[] = [];
  for (const review of fold.live) {
    const resolved = resolveReviewTicket(review, rows);
    if (!resolved.ok) {
      if (review.status === 'label_wrong') skipped.push({ review_id: review.review_id, group_id: review.group_id, reason: resolved.reason });
      continue;
    }
    latestByTicket.set(resolved.row.ticket_key, { review, row: resolved.row });
  }
  const byTicket = new Map<string, LabelCorrection>(carried.map((correction) => [correction.ticket_key, correction]));
  for (const { review, row } of latestByTicket.values()) {
    if (review.status !== 'label_wrong') continue;
    if (row.label === null) {
      skipped.push({ review_id: review.review_id, group_id: review.group_id, reason: `ticket ${row.ticket_key} has no label to correct` });
      continue;
    }
    const original = row.original_label ?? row.label;
    const corrected = row.label === 'pass' ? 'fail' : 'pass';
    if (corrected === original) {
      byTicket.delete(row.ticket_key);
      continue;
    }
    byTicket.set(row.ticket_key, {
      ticket_key: row.ticket_key,
      group_id: row.group_id,
      mission: row.mission,
      original_label: original,
      corrected_label: corrected,
      reviewer: review.reviewer,
      note: review.note,
      reviewed_at: review.created_at,
    });
  }
  return { corrections: [...byTicket.values()], skipped };
}

/** The ticket rows of a run from its selections (one per ticket and epoch). */
export function runTicketRowsOf(selections: readonly { mission: string; group_id: string; ticket_key: string; epoch: number; label: GroupLabel | null; original_label?: GroupLabel | null }[]): RunTicketRow[] {
  return selections.map((row) => ({
    mission: row.mission,
    group_id: row.group_id,
    ticket_key: row.ticket_key,
    epoch: row.epoch,
    label: row.label,
    original_label: row.original_label ?? null,
  }));
}
