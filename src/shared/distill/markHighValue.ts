import { z } from 'zod';
import type { DistillRecord } from '../schemas/records';
import { assistantVerdict } from './assistantVerdict';

/**
 * High-value samples: label = fail and the teacher's verdict = fail. These are
 * the defects the teacher caught. A false release (a defective installation
 * passed) is the costly error in the field, and fail tickets are the minority,
 * so a student trained on the natural mix drifts toward "pass"; these rows are
 * what a mixing experiment up-weights. DistillRecordSchema is strict (exactly
 * four fields), so the flag lives in a sidecar file, distill_chatml.high_value.jsonl,
 * one row per flagged record, naming the split it landed in.
 */
export const HighValueRowSchema = z
  .object({
    group_id: z.string(),
    mission: z.string(),
    split: z.enum(['train', 'val']),
    priority: z.literal('fail_fail'),
  })
  .strict();
export type HighValueRow = z.infer<typeof HighValueRowSchema>;

export function isHighValue(record: DistillRecord): boolean {
  return record.label === 'fail' && assistantVerdict(record) === 'fail';
}

export function markHighValue(records: readonly DistillRecord[], split: HighValueRow['split']): HighValueRow[] {
  return records
    .filter(isHighValue)
    .map((record) => ({ group_id: record.group_id, mission: record.mission, split, priority: 'fail_fail' as const }));
}
