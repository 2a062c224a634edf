import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { AttributionResultSchema, type AttributionResult } from '../../shared/schemas/holdoutComparison';
import { writeJsonAtomic } from './jsonl';
import { readJsonFile } from './readJsonFile';
import { RUN_FILES } from '../../shared/runFiles';

/**
 * The one owner of `attribution/step-<N>.json` in a mission directory: the measured
 * effect of every rule of guidance step N on the run's holdout (`stageb attribute`).
 * One file per step, replaced atomically; readers validate against the schema.
 */

const STEP_FILE = /^step-(\d+)\.json$/;

export function attributionPath(missionDir: string, step: number): string {
  return path.join(missionDir, RUN_FILES.attribution, `step-${step}.json`);
}

/** The result for a step; null when none was measured. A malformed file raises INPUT_* with its path. */
export function readAttribution(missionDir: string, step: number): Promise<AttributionResult | null> {
  return readJsonFile(attributionPath(missionDir, step), AttributionResultSchema);
}

export async function writeAttribution(missionDir: string, result: AttributionResult): Promise<string> {
  const file = attributionPath(missionDir, result.guidance_step);
  await writeJsonAtomic(file, AttributionResultSchema.parse(result));
  return file;
}

/** Steps with an attribution file, ascending. */
export async function listAttributionSteps(missionDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(path.join(missionDir, RUN_FILES.attribution));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const match = STEP_FILE.exec(name);
    return match ? [Number(match[1])] : [];
  }).sort((a, b) => a - b);
}
