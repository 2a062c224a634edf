import * as path from 'node:path';
import { z } from 'zod';
import { StageBError, type ErrorCode } from '../../shared/errors';
import { LabelCorrectionSchema, type LabelCorrection } from '../../shared/schemas/labelCorrections';
import type { Ticket } from '../../shared/schemas/stageARecord';
import { readJsonl, readJsonlLines } from './jsonl';
import { readJsonFile } from './readJsonFile';
import { RUN_FILES } from '../../shared/runFiles';

/**
 * A label corrections file (run config `label_corrections.path`), read and checked
 * against the Stage-A input before anything is written: every row must name a ticket
 * of the input, of the run's mission, with the input's label as its original_label.
 */

export type LabelCorrectionsByTicket = ReadonlyMap<string, LabelCorrection & { line: number }>;

type Issue = { code: ErrorCode; message: string; file: string; line: number; field: string };

export async function loadLabelCorrections(file: string, mission: string, tickets: readonly Ticket[]): Promise<LabelCorrectionsByTicket> {
  let rows: LabelCorrection[];
  try {
    // An input, not a log: a cut-off last line is an error here, never skipped.
    ({ rows } = await readJsonl(file, LabelCorrectionSchema.strict(), { tolerateTornTail: false, missingCode: 'INPUT_NOT_FOUND' }));
  } catch (error) {
    if (error instanceof StageBError && error.code === 'INPUT_NOT_FOUND' && error.location.line === undefined) {
      throw new StageBError('INPUT_NOT_FOUND', 'the label corrections file was not found (label_corrections.path)', { file, field: 'label_corrections.path' });
    }
    throw error;
  }
  // readJsonl skips blank lines, so line numbers come from a second pass over positions.
  const lines = await lineNumbersOfRows(file);
  const byKey = new Map(tickets.map((ticket) => [ticket.ticket_key, ticket]));
  const corrections = new Map<string, LabelCorrection & { line: number }>();
  const issues: Issue[] = [];
  rows.forEach((row, index) => {
    const line = lines[index];
    const issue = (code: ErrorCode, field: string, message: string) => issues.push({ code, message, file, line, field });
    if (row.mission.trim() !== mission.trim()) return issue('INPUT_MISSION_MISMATCH', 'mission', `mission ${JSON.stringify(row.mission)} does not match the configured mission ${JSON.stringify(mission.trim())}`);
    const ticket = byKey.get(row.ticket_key);
    if (!ticket) return issue('INPUT_INVALID_FIELD', 'ticket_key', `no ticket ${JSON.stringify(row.ticket_key)} in stage_a_paths: a correction must name a ticket of this run's input`);
    if (ticket.group_id !== row.group_id) return issue('INPUT_INVALID_FIELD', 'group_id', `group_id ${JSON.stringify(row.group_id)} is not the group of ticket ${JSON.stringify(row.ticket_key)} (${JSON.stringify(ticket.group_id)})`);
    if (ticket.label !== row.original_label) return issue('INPUT_INVALID_FIELD', 'original_label', `original_label ${row.original_label} is not the input's label of ${JSON.stringify(row.ticket_key)} (${ticket.label ?? 'unlabelled'})`);
    const seen = corrections.get(row.ticket_key);
    if (seen) return issue('INPUT_INVALID_FIELD', 'ticket_key', `a second correction of ticket ${JSON.stringify(row.ticket_key)}, first at line ${seen.line}`);
    corrections.set(row.ticket_key, { ...row, line });
  });
  if (issues.length > 0) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (${issues.length - 1} more in details)` : '';
    throw new StageBError(first.code, first.message + more, { file: first.file, line: first.line, field: first.field }, issues);
  }
  return corrections;
}

async function lineNumbersOfRows(file: string): Promise<number[]> {
  const numbers: number[] = [];
  for await (const line of readJsonlLines(file)) if (line.text.trim() !== '') numbers.push(line.line);
  return numbers;
}

/**
 * The tickets with their corrected labels; `original_label` keeps the input's label on
 * the tickets a correction changed (and only on those). ticket_key stays the input's,
 * so a corrected ticket is still the same ticket in every file.
 */
export function applyLabelCorrections(tickets: readonly Ticket[], corrections: LabelCorrectionsByTicket): Ticket[] {
  return tickets.map((ticket) => {
    const correction = corrections.get(ticket.ticket_key);
    if (!correction || correction.corrected_label === ticket.label) return ticket;
    return { ...ticket, label: correction.corrected_label, original_label: ticket.label };
  });
}

const ManifestCorrectionsSchema = z.object({
  config: z.object({ label_corrections: z.object({ path: z.string().nullable().optional() }).passthrough().optional() }).passthrough().optional(),
});

/**
 * The corrections a finished run itself ran on (run.json's config.label_corrections.path),
 * so a corrections file written from its reviews carries them forward. `path` null: the
 * run used none; `missing`: it did, but the file is gone or unreadable (nothing carried).
 */
export async function readRunLabelCorrections(missionDir: string): Promise<{ path: string | null; corrections: LabelCorrection[]; missing: boolean }> {
  const manifest = await readJsonFile(path.join(missionDir, RUN_FILES.manifest), ManifestCorrectionsSchema).catch(() => null);
  const file = manifest?.config?.label_corrections?.path ?? null;
  if (file === null) return { path: null, corrections: [], missing: false };
  try {
    const { rows } = await readJsonl(file, LabelCorrectionSchema, { tolerateTornTail: false });
    return { path: file, corrections: rows, missing: false };
  } catch {
    return { path: file, corrections: [], missing: true };
  }
}
