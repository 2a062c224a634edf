import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { StageBError } from '../../shared/errors';
import { SelectionRecordSchema, type SelectionRecord } from '../../shared/schemas/records';
import type { RunSelections } from '../../shared/metrics/compareRuns';
import { readJsonl } from '../io/jsonl';
import { RUN_FILES } from '../io/FsArtifactStore';

const SELECTIONS = RUN_FILES.selections;

async function exists(file: string): Promise<boolean> {
  return fsp.stat(file).then((s) => s.isFile(), () => false);
}

/**
 * Reads every mission's selections.jsonl of a run directory
 * ({output.root}/{run_name}/{mission}/selections.jsonl). A mission directory
 * itself (one that holds selections.jsonl) is accepted too.
 */
export async function loadRunSelections(runDir: string): Promise<RunSelections> {
  const stat = await fsp.stat(runDir).catch(() => null);
  if (!stat?.isDirectory()) throw new StageBError('INPUT_NOT_FOUND', `run directory not found: ${runDir}`, { file: runDir });
  const direct = path.join(runDir, SELECTIONS);
  const files: string[] = [];
  if (await exists(direct)) {
    files.push(direct);
  } else {
    const entries = await fsp.readdir(runDir, { withFileTypes: true });
    for (const entry of entries.filter((e) => e.isDirectory()).sort((x, y) => x.name.localeCompare(y.name))) {
      const file = path.join(runDir, entry.name, SELECTIONS);
      if (await exists(file)) files.push(file);
    }
  }
  if (files.length === 0) {
    throw new StageBError('INPUT_EMPTY', `no ${SELECTIONS} in ${runDir} or its mission folders`, { file: runDir });
  }
  const selections: SelectionRecord[] = [];
  // A torn tail is a run killed mid-append: its complete rows still count.
  for (const file of files) selections.push(...(await readJsonl(file, SelectionRecordSchema)).rows);
  return { name: runDir, selections };
}
