import type { DistillRecord, SelectionRecord } from '../schemas/records';
import type { GroupLabel } from '../verdict';
import { renderVerdict } from '../verdictProtocol';

/** Builders for distill tests: a valid SelectionRecord / DistillRecord with the fields a test cares about overridden. */
export function selection(overrides: Partial<SelectionRecord> & { group_id: string }): SelectionRecord {
  const label = overrides.label === undefined ? 'pass' : overrides.label;
  return {
    run_name: 'run',
    mission: 'BBU接地线检查',
    epoch: 0,
    batch_index: 0,
    ticket_key: `${overrides.group_id}::${label ?? 'unlabeled'}`,
    label,
    selected_candidate: 0,
    verdict: 'pass',
    reason: '接地线连接牢固，标签清晰',
    confidence: 0.9,
    response_text: 'Verdict: 通过\nReason: 接地线连接牢固，标签清晰\nConfidence: 0.90',
    vote: { pass: 3, fail: 1, malformed: 0 },
    selection_rule: 'majority_then_confidence',
    signals: { label_match: true, self_consistency: 0.75, candidate_agreement: false, confidence: 0.9, label_trust: 1 },
    guidance_step: 3,
    reflection_cycle: 0,
    reflection_id: null,
    summary: null,
    critique: null,
    eligible: null,
    ineligible_reason: null,
    warnings: [],
    created_at: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function distillRecord(groupId: string, label: GroupLabel | null, verdict: GroupLabel, mission = 'BBU接地线检查'): DistillRecord {
  return {
    group_id: groupId,
    mission,
    label,
    messages: [
      { role: 'system', content: 'system prompt' },
      { role: 'user', content: `ticket ${groupId}` },
      { role: 'assistant', content: renderVerdict({ verdict, reason: '理由', confidence: null }, 'two_line') },
    ],
  };
}
