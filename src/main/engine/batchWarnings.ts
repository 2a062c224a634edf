import type { ReflectionLogRecord, SelectionRecord, TrajectoryRecord } from '../../shared/schemas/records';
import type { RunEvent } from '../../shared/schemas/telemetry';

type WarningEvent = Extract<RunEvent, { type: 'warning' }>;

/**
 * Why a batch's reflection did not change the guidance, as that batch's warnings carry it:
 * the decision's ineligible_reason (null when it applied), 'reflection_disabled' when
 * reflection is off, null while the decision is not made yet. One rule for the events,
 * telemetry and the export (which takes the decision's reason the same way).
 */
export function batchReflectionReason(decision: ReflectionLogRecord['reflection'] | undefined, reflectionEnabled: boolean): string | null {
  if (decision) return decision.applied ? null : decision.ineligible_reason;
  return reflectionEnabled ? null : 'reflection_disabled';
}

/** What rollout knew about a group that its records do not keep. */
export type GroupWarningNotes = {
  /** Why the group was dropped (prompt over budget). */
  dropped?: string;
  /** The SampleSummarizer's error for the group. */
  summaryError?: string | null;
};

/**
 * The warning events of one batch, from its records: per group, each malformed candidate
 * (with its parse error), then the group's warning codes, then a failed summary. `notes`
 * adds what only the rolling-out process knew (a resumed batch has its records alone).
 * Every event carries `reason` (batchReflectionReason): warnings are emitted once the
 * batch's reflection decision is known, so a reader sees whether the problem tickets
 * were learned from.
 */
export function batchWarningEvents(input: {
  selections: readonly SelectionRecord[];
  trajectories: readonly TrajectoryRecord[];
  ts: string;
  reason: string | null;
  notes?: ReadonlyMap<string, GroupWarningNotes>;
}): WarningEvent[] {
  const events: WarningEvent[] = [];
  const push = (selection: SelectionRecord, code: string, message: string) =>
    events.push({ type: 'warning', ts: input.ts, group_id: selection.group_id, code, message, guidance_step: selection.guidance_step, ineligible_reason: input.reason });
  for (const selection of input.selections) {
    const notes = input.notes?.get(selection.ticket_key);
    if (selection.warnings.includes('prompt_over_budget')) {
      push(selection, 'prompt_over_budget', notes?.dropped ?? selection.selection_rule);
      continue;
    }
    const candidates = input.trajectories
      .filter((row) => row.ticket_key === selection.ticket_key && row.epoch === selection.epoch && row.batch_index === selection.batch_index)
      .sort((a, b) => a.candidate_index - b.candidate_index);
    for (const candidate of candidates) {
      if (!candidate.format_ok) push(selection, 'malformed_output', `candidate ${candidate.candidate_index}: ${candidate.parse_error}`);
    }
    for (const code of selection.warnings) {
      push(selection, code, `${code} (vote pass=${selection.vote.pass} fail=${selection.vote.fail} malformed=${selection.vote.malformed})`);
    }
    if (notes?.summaryError) push(selection, 'summary_failed', notes.summaryError);
  }
  return events;
}
