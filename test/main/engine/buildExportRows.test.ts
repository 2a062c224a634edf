import { describe, expect, it } from 'vitest';
import { buildExportRows } from '../../../src/main/engine/buildExportRows';
import type { ReflectionLogRecord, SelectionRecord } from '../../../src/shared/schemas/records';

const selection = (overrides: Partial<SelectionRecord> = {}): SelectionRecord => ({
  run_name: 'r', mission: 'm', epoch: 1, batch_index: 0, group_id: 'G1', ticket_key: 'G1::fail', label: 'fail',
  selected_candidate: 0, verdict: 'fail', reason: '缺接地', confidence: 0.8, response_text: 'Verdict: 不通过\nReason: 缺接地\nConfidence: 0.80',
  vote: { pass: 1, fail: 3, malformed: 0 }, selection_rule: 'x',
  signals: { label_match: true, self_consistency: 0.75, candidate_agreement: false, confidence: 0.8, label_trust: 4 / 6 },
  guidance_step: 2, reflection_cycle: 0, reflection_id: 'refl-1', summary: 's', critique: 'c', eligible: null, ineligible_reason: null,
  warnings: ['low_self_consistency', 'malformed_output'], created_at: 't', ...overrides,
});

const decision = (ineligible: string | null): ReflectionLogRecord => ({
  epoch: 1,
  reflection: {
    reflection_id: 'x', mission: 'm', batch_index: 0, cycle: 0,
    proposal: { action: 'noop', summary: '', critique: '', operations: [], evidence_group_ids: [], uncertainty_note: null },
    eligible: ineligible === null, ineligible_reason: ineligible as never, applied: false, pre_uplift: null, post_uplift: null, uplift_probability: null,
    guidance_step_before: 2, guidance_step_after: 2, debug_info: null, cache_artifacts: [], decision_detail: null, review_items: [],
  },
  created_at: 't',
});

describe('buildExportRows', () => {
  it('flattens a selection into the stable export columns', () => {
    const [row] = buildExportRows([selection()], []);
    expect(row).toMatchObject({ group_id: 'G1', epoch: 1, label: 'fail', verdict: 'fail', label_match: true, self_consistency: 0.75, guidance_step: 2, reflection_id: 'refl-1', warnings: 'low_self_consistency,malformed_output', ineligible_reason: null });
  });

  it("takes ineligible_reason from the batch's reflection decision", () => {
    const [row] = buildExportRows([selection()], [decision('non_conflict_bundle')]);
    expect(row.ineligible_reason).toBe('non_conflict_bundle');
  });

  it('works for inference-only selections (no label)', () => {
    const [row] = buildExportRows([selection({ label: null, ticket_key: 'G1::unlabeled', signals: { label_match: null, self_consistency: 1, candidate_agreement: true, confidence: 0.5, label_trust: null } })], []);
    expect(row.label).toBeNull();
    expect(row.label_match).toBeNull();
  });

  it.each(['signals', 'guidance_step', 'reflection_id'])('refuses when %s is missing, naming the line and field', (field) => {
    const broken = selection();
    delete (broken as Record<string, unknown>)[field];
    expect(() => buildExportRows([selection(), broken], [])).toThrow(expect.objectContaining({ code: 'EXPORT_MISSING_METADATA', location: { file: 'selections.jsonl', line: 2, field } }));
  });
});
