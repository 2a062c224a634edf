import { DistillRecordSchema, type DistillRecord } from '../../shared/schemas/records';
import { StageBError } from '../../shared/errors';
import { writeJsonlAtomic } from '../io/jsonl';

/**
 * Replaces the distill corpus atomically (tmp + fsync + rename): a rerun
 * overwrites the old file and a crash never leaves half a corpus. Every row is
 * validated first, so a malformed record fails before anything is written.
 */
export async function writeDistillCorpus(path: string, records: readonly DistillRecord[]): Promise<void> {
  records.forEach((record, index) => {
    const parsed = DistillRecordSchema.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StageBError('INTERNAL', `distill record ${index} (group ${String((record as { group_id?: unknown }).group_id)}) is invalid: ${issue.message}`, {
        file: path,
        field: issue.path.join('.'),
      });
    }
  });
  await writeJsonlAtomic(path, records);
}
