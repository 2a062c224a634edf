import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { StageBError, toStageBError } from '../../../shared/errors';
import type { CliIo } from '../CliIo';
import { defineCommand } from '../Command';
import { errorIssues } from '../formatCliError';
import { EXIT } from '../exitCodes';
import { RUN_FILES } from '../../../shared/runFiles';

/** A mission directory holds the run's files; a run directory holds one folder per mission. */
const MISSION_MARKERS = [RUN_FILES.qaReviews, RUN_FILES.selections, RUN_FILES.manifest];

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((entry) => entry.isFile(), () => false);
}

async function isMissionDir(dir: string): Promise<boolean> {
  for (const name of MISSION_MARKERS) if (await isFile(path.join(dir, name))) return true;
  return false;
}

/** `--run` as the mission directories it names: itself, or its mission folders (one, with --mission). */
async function missionDirsOf(runDir: string, mission: string | undefined): Promise<{ dir: string; mission: string }[]> {
  const dir = path.resolve(runDir);
  const isDir = await stat(dir).then((entry) => entry.isDirectory(), () => false);
  if (!isDir) throw new StageBError('INPUT_NOT_FOUND', 'the run directory was not found', { file: dir, field: '--run' });
  let found: { dir: string; mission: string }[];
  if (await isMissionDir(dir)) found = [{ dir, mission: path.basename(dir) }];
  else {
    found = [];
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && (await isMissionDir(path.join(dir, entry.name)))) found.push({ dir: path.join(dir, entry.name), mission: entry.name });
    }
  }
  if (mission !== undefined) found = found.filter((entry) => entry.mission === mission);
  if (found.length === 0) {
    const what = mission !== undefined ? `no mission ${JSON.stringify(mission)} in this run directory` : `no mission run directory here (expected ${MISSION_MARKERS.slice(0, -1).join(', ')} or ${MISSION_MARKERS.at(-1)}, or folders holding them)`;
    throw new StageBError('INPUT_NOT_FOUND', what, { file: dir, field: '--run' });
  }
  return found;
}

/** The folded reviews and the run's tickets of one mission directory. */
async function readMission(dir: string) {
  const { readQaReviews } = await import('../../io/qaReviewsFile');
  const { FsArtifactStore } = await import('../../io/FsArtifactStore');
  const { foldQaReviews, runTicketRowsOf } = await import('../../../shared/qaReviews/foldQaReviews');
  const read = await readQaReviews(dir);
  const selections = (await isFile(path.join(dir, RUN_FILES.selections))) ? await new FsArtifactStore(dir).readSelections() : [];
  return { fold: foldQaReviews(read.rows), read, tickets: runTicketRowsOf(selections) };
}

function warnInvalid(io: CliIo, dir: string, read: { invalid: { line: number; message: string }[]; tornTail: { line: number } | null }): void {
  const file = path.join(dir, RUN_FILES.qaReviews);
  for (const bad of read.invalid) io.stderr.write(`warning: ${file}:${bad.line}: skipped: ${bad.message}\n`);
  if (read.tornTail) io.stderr.write(`warning: ${file}:${read.tornTail.line}: skipped a torn last line (a crash mid-append)\n`);
}

async function runJson(io: CliIo, json: boolean, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (raw) {
    if (!json) throw raw;
    io.stdout.write(`${JSON.stringify({ ok: false, errors: errorIssues(toStageBError(raw)) }, null, 2)}\n`);
    return EXIT.failure;
  }
}

const RUN_OPTION = { type: 'string', value: 'runDir', required: true, description: 'a run directory ({output.root}/{run_name}) or one mission folder of it' } as const;
const MISSION_OPTION = { type: 'string', value: 'name', description: 'only this mission of the run directory' } as const;

const reviewsExportCommand = defineCommand({
  name: 'export',
  summary: 'write the current QA review of every reviewed item as JSONL',
  usage: '--run <runDir> [--mission <name>] [--out <file>] [--json]',
  options: {
    run: RUN_OPTION,
    mission: MISSION_OPTION,
    out: { type: 'string', value: 'file', description: 'the JSONL file to write (replaced atomically); without it the rows go to stdout' },
    json: { type: 'boolean', description: 'print {"ok", "out", "count", "rows"} (rows only without --out), or {"ok": false, "errors"}, on stdout' },
  },
  description: `Reads ${RUN_FILES.qaReviews} of each mission: the latest review of each item
(group, ticket, epoch) that no undo retracted. One row per item, in review order:
mission, review_id, group_id, ticket_key, epoch, label, status, note, reviewer, reviewed_at.
Lines of the log that cannot be read are skipped with a warning on stderr.`,
  run: ({ values, io }) =>
    runJson(io, values.json, async () => {
      const { exportReviewRows } = await import('../../../shared/qaReviews/foldQaReviews');
      const rows = [];
      for (const mission of await missionDirsOf(values.run, values.mission)) {
        const { fold, read, tickets } = await readMission(mission.dir);
        warnInvalid(io, mission.dir, read);
        rows.push(...exportReviewRows(fold, tickets, mission.mission));
      }
      const out = values.out === undefined ? null : path.resolve(values.out);
      if (out) {
        const { writeJsonlAtomic } = await import('../../io/jsonl');
        await writeJsonlAtomic(out, rows);
      }
      if (values.json) io.stdout.write(`${JSON.stringify({ ok: true, out, count: rows.length, ...(out ? {} : { rows }) }, null, 2)}\n`);
      else if (out) io.stdout.write(`wrote ${rows.length} review${rows.length === 1 ? '' : 's'} → ${out}\n`);
      else for (const row of rows) io.stdout.write(`${JSON.stringify(row)}\n`);
      return EXIT.ok;
    }),
});

const reviewsCorrectionsCommand = defineCommand({
  name: 'corrections',
  summary: 'write the label corrections the label_wrong reviews call for',
  usage: '--run <runDir> --out <file> [--mission <name>] [--json]',
  options: {
    run: RUN_OPTION,
    out: { type: 'string', value: 'file', required: true, description: 'the corrections file to write (JSONL, replaced atomically)' },
    mission: MISSION_OPTION,
    json: { type: 'boolean', description: 'print {"ok", "out", "corrections", "carried", "skipped"} (or {"ok": false, "errors"}) on stdout' },
  },
  description: `One row per ticket whose latest review (any epoch, undos taken back) is
label_wrong: ticket_key, group_id, mission, original_label, corrected_label (the run's
label flipped), reviewer, note, reviewed_at. original_label is the Stage-A input's, also
for a run that itself ran on corrected labels; that run's own corrections are carried
forward unless a review overrides them (flipping a ticket back to the input's label
drops its row). Name the file in the next run's config as
label_corrections.path and that run trains and gates on the corrected labels.
A label_wrong review whose ticket the run cannot tell is listed as skipped on stderr.`,
  run: ({ values, io }) =>
    runJson(io, values.json, async () => {
      const { labelCorrectionsFromReviews } = await import('../../../shared/qaReviews/foldQaReviews');
      const corrections = [];
      const skipped = [];
      let carried = 0;
      for (const mission of await missionDirsOf(values.run, values.mission)) {
        const { fold, read, tickets } = await readMission(mission.dir);
        warnInvalid(io, mission.dir, read);
        const { readRunLabelCorrections } = await import('../../io/loadLabelCorrections');
        const own = await readRunLabelCorrections(mission.dir);
        if (own.missing) io.stderr.write(`warning: the run's own label corrections file ${own.path} cannot be read; its corrections are not carried forward\n`);
        carried += own.corrections.length;
        const result = labelCorrectionsFromReviews(fold, tickets, own.corrections);
        corrections.push(...result.corrections);
        skipped.push(...result.skipped.map((entry) => ({ mission: mission.mission, ...entry })));
      }
      const out = path.resolve(values.out);
      const { writeJsonlAtomic } = await import('../../io/jsonl');
      await writeJsonlAtomic(out, corrections);
      if (values.json) io.stdout.write(`${JSON.stringify({ ok: true, out, corrections: corrections.length, carried, skipped }, null, 2)}\n`);
      else {
        io.stdout.write(`wrote ${corrections.length} label correction${corrections.length === 1 ? '' : 's'} → ${out}\n`);
        for (const entry of skipped) io.stderr.write(`skipped review ${entry.review_id} (${entry.mission}, ${entry.group_id}): ${entry.reason}\n`);
      }
      return EXIT.ok;
    }),
});

export const reviewsCommand = defineCommand({
  name: 'reviews',
  summary: 'export QA reviews and turn label_wrong reviews into label corrections',
  subcommands: [reviewsExportCommand, reviewsCorrectionsCommand],
});
