import { DistillRecordSchema, type DistillRecord, type SelectionRecord } from '../schemas/records';
import { parseVerdictResponse, renderVerdict } from '../verdictProtocol';

/**
 * The assistant turn is the selected Verdict/Reason in the two-line protocol.
 * Confidence is left out on purpose: it is the teacher's self-report, not
 * something the student should learn to imitate, and the task asks for
 * Verdict/Reason only.
 */
export const DISTILL_ASSISTANT_FORMAT = 'two_line' as const;

export type DistillPrompt = { system: string; user: string };

/**
 * Rebuilds the exact prompt the selected candidate saw. The selection is passed
 * too so the caller can use its guidance_step, ticket_key and selected_candidate
 * (prompt variant) — the group id alone is ambiguous for resubmitted groups.
 */
export type DistillPromptFor = (groupId: string, selection: SelectionRecord) => DistillPrompt;

export type SkippedDistillGroup = { group_id: string; ticket_key: string; reason: string };

export type DistillBuildResult = {
  records: DistillRecord[];
  /** Groups of the epoch without a well-formed selected verdict. */
  skipped: SkippedDistillGroup[];
};

/**
 * One ChatML record per group of `epoch`: system + user (the rollout prompt) and
 * the selected verdict. Reflection text (summary, critique, proposals) never
 * enters a record: only the four schema fields are written, and the assistant
 * turn is rendered from the parsed verdict and reason, not from free text.
 */
export function buildDistillRecords(
  selections: readonly SelectionRecord[],
  epoch: number,
  promptFor: DistillPromptFor,
): DistillBuildResult {
  // A resumed run may append a group twice; the last row is the one in force.
  const latest = new Map<string, SelectionRecord>();
  for (const row of selections) {
    if (row.epoch !== epoch) continue;
    latest.delete(row.ticket_key);
    latest.set(row.ticket_key, row);
  }
  const ordered = [...latest.values()].sort((x, y) => x.batch_index - y.batch_index);
  const records: DistillRecord[] = [];
  const skipped: SkippedDistillGroup[] = [];
  for (const row of ordered) {
    const assistant = selectedAssistantTurn(row);
    if (!assistant.ok) {
      skipped.push({ group_id: row.group_id, ticket_key: row.ticket_key, reason: assistant.reason });
      continue;
    }
    const prompt = promptFor(row.group_id, row);
    records.push(
      DistillRecordSchema.parse({
        group_id: row.group_id,
        mission: row.mission,
        label: row.label,
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
          { role: 'assistant', content: assistant.text },
        ],
      }),
    );
  }
  return { records, skipped };
}

function selectedAssistantTurn(row: SelectionRecord): { ok: true; text: string } | { ok: false; reason: string } {
  if (row.selected_candidate === null) return { ok: false, reason: 'no selected candidate' };
  if (row.verdict === null) return { ok: false, reason: 'selected candidate has no verdict' };
  const reason = row.reason?.trim() ?? '';
  if (reason === '') return { ok: false, reason: 'selected candidate has no reason' };
  if (/[\r\n]/.test(reason)) return { ok: false, reason: 'selected reason spans several lines' };
  const text = renderVerdict({ verdict: row.verdict, reason, confidence: null }, DISTILL_ASSISTANT_FORMAT);
  // The student is trained on what the parser accepts; refuse anything that would not round-trip.
  const reparsed = parseVerdictResponse(text, DISTILL_ASSISTANT_FORMAT);
  if (!reparsed.ok || reparsed.value.verdict !== row.verdict || reparsed.value.reason !== reason) {
    return { ok: false, reason: 'selected verdict does not round-trip through the verdict parser' };
  }
  return { ok: true, text };
}
