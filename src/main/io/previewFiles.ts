import path from 'node:path';
import { z } from 'zod';
import { StageBError } from '../../shared/errors';
import { PreviewResultSchema, type PreviewResult } from '../../shared/schemas/holdoutComparison';
import { ExperienceKeySchema, StoredExperienceMetaSchema } from '../../shared/schemas/guidance';
import { writeJsonAtomic } from './jsonl';
import { readJsonFile } from './readJsonFile';
import { RUN_FILES } from '../../shared/runFiles';

/**
 * The one owner of `preview/` in a mission directory: a draft guidance handed to the
 * engine process (`<id>.draft.json`) and the engine's evaluation of it against the
 * current guidance on the run's holdout (`<id>.json`).
 */

export const PreviewIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'preview ids are 1-100 letters, digits, _ or -');

export const PreviewDraftSchema = z.object({
  experiences: z.record(ExperienceKeySchema, z.string()).refine((value) => Object.keys(value).length > 0, 'experiences must not be empty'),
  metadata: z.record(z.string(), StoredExperienceMetaSchema).optional(),
});
export type PreviewDraft = z.infer<typeof PreviewDraftSchema>;

function checkedId(id: string): string {
  const parsed = PreviewIdSchema.safeParse(id);
  if (!parsed.success) throw new StageBError('API_INVALID_REQUEST', parsed.error.issues[0].message, { field: 'previewId' });
  return parsed.data;
}

export function previewDraftPath(missionDir: string, id: string): string {
  return path.join(missionDir, RUN_FILES.preview, `${checkedId(id)}.draft.json`);
}

export function previewResultPath(missionDir: string, id: string): string {
  return path.join(missionDir, RUN_FILES.preview, `${checkedId(id)}.json`);
}

export async function writePreviewDraft(missionDir: string, id: string, draft: PreviewDraft): Promise<string> {
  const file = previewDraftPath(missionDir, id);
  await writeJsonAtomic(file, PreviewDraftSchema.parse(draft));
  return file;
}

export function readPreviewResult(missionDir: string, id: string): Promise<PreviewResult | null> {
  return readJsonFile(previewResultPath(missionDir, id), PreviewResultSchema);
}

export async function writePreviewResult(missionDir: string, result: PreviewResult): Promise<string> {
  const file = previewResultPath(missionDir, result.preview_id);
  await writeJsonAtomic(file, PreviewResultSchema.parse(result));
  return file;
}
