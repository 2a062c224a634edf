import type { ExportRow, ReflectionLogRecord, SelectionRecord } from '../../shared/schemas/records';
import { ExportRowSchema } from '../../shared/schemas/records';
import { StageBError } from '../../shared/errors';
import { RUN_FILES } from '../../shared/runFiles';

const REQUIRED_METADATA = ['signals', 'guidance_step', 'reflection_id'] as const;

/**
 * One flat export row per selected group. The batch's reflection decision supplies
 * ineligible_reason (selections are written before reflection runs). Refuses, with
 * the group and the missing field named, when a selection lacks the metadata the
 * spec requires (signals, guidance step, reflection id); null reflection_id is
 * allowed and means the initial guidance was in force.
 */
export function buildExportRows(selections: SelectionRecord[], reflections: ReflectionLogRecord[]): ExportRow[] {
  const decisionByBatch = new Map(reflections.map((row) => [`${row.epoch}:${row.reflection.batch_index}`, row.reflection]));
  return selections.map((selection, index) => {
    for (const field of REQUIRED_METADATA) {
      if ((selection as Record<string, unknown>)[field] === undefined) {
        throw new StageBError('EXPORT_MISSING_METADATA', `selection of group ${selection.group_id} has no ${field}; refusing to export`, { file: RUN_FILES.selections, line: index + 1, field });
      }
    }
    const decision = decisionByBatch.get(`${selection.epoch}:${selection.batch_index}`);
    const ineligible = selection.ineligible_reason ?? decision?.ineligible_reason ?? null;
    return ExportRowSchema.parse({
      run_name: selection.run_name,
      mission: selection.mission,
      group_id: selection.group_id,
      ticket_key: selection.ticket_key,
      epoch: selection.epoch,
      label: selection.label,
      original_label: selection.original_label ?? null,
      verdict: selection.verdict,
      reason: selection.reason,
      confidence: selection.confidence,
      response_text: selection.response_text,
      label_match: selection.signals.label_match,
      self_consistency: selection.signals.self_consistency,
      candidate_agreement: selection.signals.candidate_agreement,
      label_trust: selection.signals.label_trust,
      guidance_step: selection.guidance_step,
      reflection_id: selection.reflection_id,
      summary: selection.summary,
      critique: selection.critique,
      ineligible_reason: ineligible,
      warnings: selection.warnings.join(','),
    });
  });
}
