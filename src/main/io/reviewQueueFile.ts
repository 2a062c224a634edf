import * as path from 'node:path';
import { ReviewQueueEntrySchema, type ReviewQueueEntry } from '../../shared/schemas/reviewQueue';
import { StageBError } from '../../shared/errors';
import { appendJsonl, readJsonl } from './jsonl';
import { RUN_FILES } from '../../shared/runFiles';

/**
 * The owner of review_queue.jsonl in a mission run directory (named in RUN_FILES): its writes and
 * its reads. The engine appends proposals (through FsArtifactStore), the workbench API
 * appends decisions; both read through here.
 */

export function reviewQueuePath(missionDir: string): string {
  return path.join(missionDir, RUN_FILES.reviewQueue);
}

/** Every row, in file order; a missing file is an empty queue, a torn last line is skipped. */
export async function readReviewQueue(missionDir: string): Promise<ReviewQueueEntry[]> {
  try {
    const { rows } = await readJsonl(reviewQueuePath(missionDir), ReviewQueueEntrySchema, { tolerateTornTail: true, missingCode: 'INPUT_NOT_FOUND' });
    return rows;
  } catch (error) {
    if (error instanceof StageBError && error.code === 'INPUT_NOT_FOUND') return [];
    throw error;
  }
}

export async function appendReviewQueue(missionDir: string, entries: readonly ReviewQueueEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await appendJsonl(reviewQueuePath(missionDir), entries.map((entry) => ReviewQueueEntrySchema.parse(entry)));
}
