import { StageBError, type ErrorCode } from '../../shared/errors';
import { StageARecordSchema, type StageARecord, type Ticket } from '../../shared/schemas/stageARecord';
import { parseStageASummary, type StageASummary } from '../../shared/stageASummary';
import { ticketKey } from '../../shared/verdict';
import { readJsonlLines } from './jsonl';
import { limitTickets } from '../engine/epochPlan';
import { describeZodIssue } from './zodIssuePath';
import { describeInvalidUtf8 } from './utf8';

export type IngestStageAOptions = {
  paths: readonly string[];
  mission: string;
  /** Keep only N tickets after every line has been validated, stratified by label (limitTickets). */
  maxTickets?: number | null;
  /** Errors collected before ingest stops scanning. Default 20. */
  maxErrors?: number;
};

export type IngestFileStats = { file: string; lines: number; tickets: number };

export type IngestStageAStats = {
  files: IngestFileStats[];
  /** Tickets returned (after maxTickets). */
  tickets: number;
  /** Valid tickets found in the inputs (before maxTickets). */
  tickets_found: number;
  labels: { pass: number; fail: number; unlabeled: number };
  images: number;
  summary_formats: Record<StageASummary['format'], number>;
  review_markers: number;
};

export type IngestIssue = { code: ErrorCode; message: string; file: string; line?: number; field?: string };

/** image_2 before image_10; anything without a number sorts last, by name. */
export function compareImageKeys(a: string, b: string): number {
  const na = Number.parseInt(/(\d+)$/.exec(a)?.[1] ?? '', 10);
  const nb = Number.parseInt(/(\d+)$/.exec(b)?.[1] ?? '', 10);
  const aNum = Number.isFinite(na);
  const bNum = Number.isFinite(nb);
  if (aNum && bNum && na !== nb) return na - nb;
  if (aNum !== bNum) return aNum ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function throwCollected(issues: IngestIssue[], truncated: boolean): never {
  const first = issues[0];
  const more = issues.length > 1 ? ` (${issues.length - 1}${truncated ? '+' : ''} more in details)` : '';
  throw new StageBError(first.code, first.message + more, { file: first.file, line: first.line, field: first.field }, issues);
}

export type StageALineResult = { ok: true; record: StageARecord } | { ok: false; issue: IngestIssue };

/**
 * Validates one Stage-A line (JSON object, schema, mission) without touching the disk;
 * ingestStageA runs every line through it. Never throws: a bad line is an issue naming
 * file, line and field.
 */
export function parseStageALine(text: string, file: string, line: number, mission: string): StageALineResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, issue: { code: 'INPUT_MALFORMED_JSON', message: `not valid JSON: ${reason}`, file, line } };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, issue: { code: 'INPUT_INVALID_FIELD', message: 'each line must be a JSON object (one ticket per line)', file, line } };
  }
  const parsed = StageARecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = describeZodIssue(parsed.error.issues[0]);
    return { ok: false, issue: { code: 'INPUT_INVALID_FIELD', message: issue.message, file, line, field: issue.field || undefined } };
  }
  const record = parsed.data;
  if (record.mission.trim() !== mission.trim()) {
    const message = `mission ${JSON.stringify(record.mission)} does not match the configured mission ${JSON.stringify(mission.trim())}`;
    return { ok: false, issue: { code: 'INPUT_MISSION_MISMATCH', message, file, line, field: 'mission' } };
  }
  return { ok: true, record };
}

/**
 * Reads and validates every Stage-A line before anything expensive happens.
 * Every problem names its file, line and field; the first is the error message,
 * the first `maxErrors` are in `details`.
 */
export async function ingestStageA(options: IngestStageAOptions): Promise<{ tickets: Ticket[]; stats: IngestStageAStats }> {
  const maxErrors = options.maxErrors ?? 20;
  const mission = options.mission.trim();
  if (options.paths.length === 0) {
    throw new StageBError('INPUT_EMPTY', 'no Stage-A files were given (stage_a_paths is empty)', { field: 'stage_a_paths' });
  }
  const issues: IngestIssue[] = [];
  let truncated = false;
  const report = (issue: IngestIssue): boolean => {
    if (issues.length < maxErrors) issues.push(issue);
    else truncated = true;
    return truncated;
  };
  const tickets: Ticket[] = [];
  const firstSeen = new Map<string, { file: string; line: number }>();
  const files: IngestFileStats[] = [];
  const stats: IngestStageAStats = {
    files,
    tickets: 0,
    tickets_found: 0,
    labels: { pass: 0, fail: 0, unlabeled: 0 },
    images: 0,
    summary_formats: { text: 0, json: 0, irrelevant: 0, unknown: 0 },
    review_markers: 0,
  };

  scan: for (const file of options.paths) {
    const fileStats: IngestFileStats = { file, lines: 0, tickets: 0 };
    files.push(fileStats);
    for await (const line of readJsonlLines(file, { missingCode: 'INPUT_NOT_FOUND' })) {
      fileStats.lines = line.line;
      if (line.invalidUtf8) {
        // Node would decode the bad bytes to U+FFFD and the model would read an altered summary.
        const issue: IngestIssue = { code: 'INPUT_INVALID_UTF8', message: describeInvalidUtf8(line.invalidUtf8), file, line: line.line };
        if (report(issue)) break scan;
        continue;
      }
      if (line.text.trim() === '') continue;
      const parsedLine = parseStageALine(line.text, file, line.line, mission);
      if (!parsedLine.ok) {
        if (report(parsedLine.issue)) break scan;
        continue;
      }
      const { record } = parsedLine;
      const label = record.label ?? null;
      const key = ticketKey(record.group_id, label);
      const seen = firstSeen.get(key);
      if (seen) {
        const message = `duplicate ticket_key ${JSON.stringify(key)} (group_id with the same label), first seen at ${seen.file}:${seen.line}`;
        if (report({ code: 'INPUT_INVALID_FIELD', message, file, line: line.line, field: 'group_id' })) break scan;
        continue;
      }
      firstSeen.set(key, { file, line: line.line });
      const summaries = Object.keys(record.per_image)
        .sort(compareImageKeys)
        .map((image) => ({ image, text: record.per_image[image] }));
      fileStats.tickets += 1;
      tickets.push({
        ticket_key: key,
        group_id: record.group_id,
        mission: record.mission.trim(),
        label,
        original_label: null,
        images: [...record.images],
        summaries,
        source: { file, line: line.line },
      });
    }
    if (fileStats.tickets === 0 && issues.length === 0) {
      report({ code: 'INPUT_EMPTY', message: 'the file holds no tickets', file });
    }
  }

  if (issues.length > 0) throwCollected(issues, truncated);
  stats.tickets_found = tickets.length;
  const limit = options.maxTickets ?? null;
  const kept = limit !== null ? limitTickets(tickets, limit) : tickets;
  stats.tickets = kept.length;
  // Counts describe what the run will see.
  for (const ticket of kept) {
    if (ticket.label === null) stats.labels.unlabeled += 1;
    else stats.labels[ticket.label] += 1;
    stats.images += ticket.summaries.length;
    for (const summary of ticket.summaries) {
      const parsedSummary = parseStageASummary(summary.text);
      stats.summary_formats[parsedSummary.format] += 1;
      if (parsedSummary.review_marker) stats.review_markers += 1;
    }
  }
  return { tickets: kept, stats };
}
