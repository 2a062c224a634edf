import * as path from 'node:path';
import { StageBError } from '../../shared/errors';
import { QaReviewLogRowSchema, type QaReviewLogRow } from '../../shared/schemas/qaReview';
import type { QaReviewLogEntry } from '../../shared/qaReviews/foldQaReviews';
import { appendJsonl, readJsonlLines, type TornTail } from './jsonl';
import { describeZodIssue } from './zodIssuePath';
import { describeInvalidUtf8 } from './utf8';
import { RUN_FILES } from '../../shared/runFiles';

/**
 * The owner of qa_reviews.jsonl in a mission run directory (named in RUN_FILES): its appends and
 * its reads. The workbench API appends reviews and retractions (undo); the API and
 * `stageb reviews` read it through here and fold it with foldQaReviews.
 */

export function qaReviewsPath(missionDir: string): string {
  return path.join(missionDir, RUN_FILES.qaReviews);
}

export type QaReviewsRead = {
  rows: QaReviewLogEntry[];
  /** Complete lines that are not a review or a retraction: reported, never hiding the rest of the log. */
  invalid: { line: number; message: string }[];
  /** A last line cut short by a crash mid-append; the next append removes it. */
  tornTail: TornTail | null;
};

/** Every row in file order. A missing file is an empty log. */
export async function readQaReviews(missionDir: string): Promise<QaReviewsRead> {
  const rows: QaReviewLogEntry[] = [];
  const invalid: QaReviewsRead['invalid'] = [];
  let tornTail: TornTail | null = null;
  try {
    for await (const line of readJsonlLines(qaReviewsPath(missionDir), { missingCode: 'INPUT_NOT_FOUND' })) {
      if (line.invalidUtf8) {
        if (!line.terminated) tornTail = { line: line.line, bytes: line.bytes };
        else invalid.push({ line: line.line, message: describeInvalidUtf8(line.invalidUtf8) });
        continue;
      }
      if (line.text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch (error) {
        if (!line.terminated) tornTail = { line: line.line, bytes: line.bytes };
        else invalid.push({ line: line.line, message: `malformed JSON: ${(error as Error).message}` });
        continue;
      }
      const parsed = QaReviewLogRowSchema.safeParse(value);
      if (parsed.success) rows.push({ line: line.line, row: parsed.data });
      else {
        const issue = describeZodIssue(parsed.error.issues[0]);
        invalid.push({ line: line.line, message: issue.field ? `${issue.field}: ${issue.message}` : issue.message });
      }
    }
  } catch (error) {
    if (error instanceof StageBError && error.code === 'INPUT_NOT_FOUND') return { rows: [], invalid: [], tornTail: null };
    throw error;
  }
  return { rows, invalid, tornTail };
}

/** Appends with one write and an fsync; a torn tail a crash left behind is cut off first. */
export async function appendQaReviews(missionDir: string, rows: readonly QaReviewLogRow[]): Promise<{ truncatedTornTailBytes: number }> {
  if (rows.length === 0) return { truncatedTornTailBytes: 0 };
  const checked = rows.map((row) => QaReviewLogRowSchema.parse(row));
  const result = await appendJsonl(qaReviewsPath(missionDir), checked);
  return { truncatedTornTailBytes: result.truncatedTornTailBytes };
}
