import type { GroupLabel } from '../../../shared/verdict';
import type { NeedReviewRecord, SelectionRecord, TrajectoryRecord } from '../../../shared/schemas/records';

type Vote = { pass: number; fail: number; malformed: number };

/**
 * The label-noise queue. A labelled group goes to need_review when, in at least
 * `minEpochs` distinct epochs, all of its well-formed candidates agreed with each other
 * on the verdict opposite to the label (at least one well-formed candidate that epoch).
 * Such a group is more likely mislabelled than a guidance gap, so reflection does not
 * learn from it (see eligibility.ts) and a human reviews it.
 *
 * Per epoch the candidates are the trajectories of that ticket_key and epoch; when an
 * epoch has no trajectories the selection's vote stands in for them. If a group was
 * selected more than once in an epoch, the last selection of that epoch counts.
 * Output is sorted by ticket_key so the file is stable across reruns.
 */
export function findNeedReview(
  selectionsAcrossEpochs: readonly SelectionRecord[],
  trajectories: readonly TrajectoryRecord[],
  minEpochs: number,
  now: string,
  /**
   * Count only epochs up to this one. The queue the pipeline hands to the next epoch's
   * reflections must not depend on whether later epochs' rows are already on disk (a
   * resumed run holds them; an uninterrupted one does not).
   */
  throughEpoch: number = Number.POSITIVE_INFINITY,
): NeedReviewRecord[] {
  const candidatesByEpoch = new Map<string, TrajectoryRecord[]>();
  for (const t of trajectories) {
    if (t.epoch > throughEpoch) continue;
    const k = `${t.ticket_key}\u0000${t.epoch}`;
    const list = candidatesByEpoch.get(k) ?? [];
    list.push(t);
    candidatesByEpoch.set(k, list);
  }

  const lastSelection = new Map<string, Map<number, SelectionRecord>>();
  for (const s of selectionsAcrossEpochs) {
    if (s.label === null || s.epoch > throughEpoch) continue;
    const epochs = lastSelection.get(s.ticket_key) ?? new Map<number, SelectionRecord>();
    epochs.set(s.epoch, s);
    lastSelection.set(s.ticket_key, epochs);
  }

  const out: NeedReviewRecord[] = [];
  for (const [key, epochs] of lastSelection) {
    const evidence: NeedReviewRecord['evidence'] = [];
    let label: GroupLabel | null = null;
    let agreed: GroupLabel | null = null;
    let sample: SelectionRecord | null = null;
    for (const [epoch, selection] of [...epochs].sort((a, b) => a[0] - b[0])) {
      const candidates = candidatesByEpoch.get(`${key}\u0000${epoch}`);
      const vote: Vote = candidates ? voteOf(candidates) : selection.vote;
      const against: GroupLabel = selection.label === 'pass' ? 'fail' : 'pass';
      if (vote[selection.label!] === 0 && vote[against] > 0) {
        evidence.push({ epoch, vote, reason: selection.reason });
        label = selection.label;
        agreed = against;
        sample = selection;
      }
    }
    if (evidence.length >= minEpochs && label && agreed && sample) {
      out.push({
        mission: sample.mission,
        group_id: sample.group_id,
        ticket_key: key,
        label,
        agreed_verdict: agreed,
        epochs: evidence.map((e) => e.epoch),
        evidence,
        created_at: now,
      });
    }
  }
  return out.sort((a, b) => (a.ticket_key < b.ticket_key ? -1 : a.ticket_key > b.ticket_key ? 1 : 0));
}

function voteOf(candidates: readonly TrajectoryRecord[]): Vote {
  const vote: Vote = { pass: 0, fail: 0, malformed: 0 };
  for (const c of candidates) {
    if (c.format_ok && c.verdict) vote[c.verdict]++;
    else vote.malformed++;
  }
  return vote;
}
