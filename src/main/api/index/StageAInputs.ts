import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { StageBError } from '../../../shared/errors';
import type { StageARecord } from '../../../shared/schemas/stageARecord';
import { normalizeVerdict, ticketKey, type GroupLabel } from '../../../shared/verdict';
import { compareImageKeys, parseStageALine } from '../../io/ingestStageA';
import { readJsonlLines } from '../../io/jsonl';
import { TextColumn } from '../TextColumn';

/**
 * One Stage-A line of a run's input. `record()` is what the engine's ingest (parseStageALine)
 * makes of it (null when ingest would refuse the line, so it never reached the model);
 * `value()` is the raw JSON object either way.
 */
export type StageAInputLine = {
  file: string;
  line: number;
  groupId: string;
  label: GroupLabel | null;
  ticketKey: string;
  /** The raw JSON object (parsed again on use: the index keeps only the line's text). */
  value(): Record<string, unknown>;
  record(): StageARecord | null;
  /** per_image keys in the order the prompt lists them (compareImageKeys, as ingest sorts). */
  imageKeys: string[];
};

/** Groups whose tickets' summaries matched a search, with the labels of the matching tickets. */
export type SummaryMatches = ReadonlyMap<string, ReadonlySet<GroupLabel | null>>;

/** One input file of a run, parsed once and kept while its size, mtime and inode stay the same. */
type ParsedInput = {
  signature: string;
  sha256: string;
  lines: StageAInputLine[];
  byGroup: Map<string, StageAInputLine[]>;
  /** The lowercase Stage-A summaries of each line, row k = lines[k] (the text filter's second half). */
  text: TextColumn;
  /** The last searches over this file (a paged table asks the same one per page). */
  searches: Map<string, SummaryMatches>;
};

const MAX_CACHED_FILES = 16;
const MAX_CACHED_SEARCHES = 8;
const cache = new Map<string, ParsedInput>();

function signatureOf(info: { size: number; mtimeMs: number; ino: number; dev: number }): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
}

function lineOf(file: string, lineNo: number, text: string, object: Record<string, unknown>, mission: string, valid: boolean): StageAInputLine | null {
  const rawGroupId = typeof object.group_id === 'string' ? object.group_id.trim() : '';
  if (!rawGroupId) return null;
  // The same values ingest derives (its schema trims group_id and normalizes the label the same way).
  const label = normalizeVerdict(object.label);
  const perImage = object.per_image && typeof object.per_image === 'object' && !Array.isArray(object.per_image) ? (object.per_image as Record<string, unknown>) : {};
  return {
    file,
    line: lineNo,
    groupId: rawGroupId,
    label,
    ticketKey: ticketKey(rawGroupId, label),
    value: () => JSON.parse(text) as Record<string, unknown>,
    imageKeys: Object.keys(perImage).sort(compareImageKeys),
    record() {
      const result = valid ? parseStageALine(text, file, lineNo, mission) : null;
      return result?.ok ? result.record : null;
    },
  };
}

/** Parses in flight, by file and signature: a search that arrives during the background parse waits for it instead of parsing again. */
const pending = new Map<string, Promise<ParsedInput>>();

async function parseInput(file: string, mission: string): Promise<ParsedInput> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    throw new StageBError('INPUT_NOT_FOUND', `Stage-A file not readable: ${(error as Error).message}`, { file });
  }
  const signature = `${signatureOf(info)}:${mission}`;
  const cached = cache.get(file);
  if (cached && cached.signature === signature) {
    cache.delete(file);
    cache.set(file, cached);
    return cached;
  }
  const key = `${file}\u0000${signature}`;
  let parsing = pending.get(key);
  if (!parsing) {
    parsing = parseFile(file, mission, signature).finally(() => pending.delete(key));
    pending.set(key, parsing);
  }
  return parsing;
}

async function parseFile(file: string, mission: string, signature: string): Promise<ParsedInput> {
  const sha256 = createHash('sha256').update(await readFile(file)).digest('hex');
  const lines: StageAInputLine[] = [];
  const byGroup = new Map<string, StageAInputLine[]>();
  const text = new TextColumn();
  for await (const line of readJsonlLines(file, { missingCode: 'INPUT_NOT_FOUND' })) {
    if (line.text.trim() === '' || !line.text.includes('group_id')) continue;
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch {
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const entry = lineOf(file, line.line, line.text, value as Record<string, unknown>, mission, line.invalidUtf8 === null);
    if (!entry) continue;
    lines.push(entry);
    const group = byGroup.get(entry.groupId);
    if (group) group.push(entry);
    else byGroup.set(entry.groupId, [entry]);
    const perImage = (value as { per_image: Record<string, unknown> }).per_image;
    text.push(entry.imageKeys.map((key) => String(perImage[key] ?? '')).join('\n'));
  }
  const parsed = { signature, sha256, lines, byGroup, text, searches: new Map() };
  cache.set(file, parsed);
  while (cache.size > MAX_CACHED_FILES) cache.delete(cache.keys().next().value as string);
  return parsed;
}

function searchInput(input: ParsedInput, needle: string): SummaryMatches {
  const key = needle.toLowerCase();
  const cached = input.searches.get(key);
  if (cached) return cached;
  const matches = new Map<string, Set<GroupLabel | null>>();
  const mask = new Uint8Array(input.lines.length);
  if (input.text.search(needle, mask) > 0) {
    for (let k = 0; k < mask.length; k += 1) {
      if (mask[k] === 0) continue;
      const line = input.lines[k];
      const labels = matches.get(line.groupId);
      if (labels) labels.add(line.label);
      else matches.set(line.groupId, new Set([line.label]));
    }
  }
  input.searches.set(key, matches);
  while (input.searches.size > MAX_CACHED_SEARCHES) input.searches.delete(input.searches.keys().next().value as string);
  return matches;
}

export type StageAInputs = {
  files: { file: string; sha256: string }[];
  /** Changes whenever an input file does. */
  signature: string;
  /** Every line whose group is `groupId`, in file order (a group can be resubmitted with the other label). */
  linesOfGroup(groupId: string): StageAInputLine[];
  /** The groups whose tickets' Stage-A summaries contain `needle` (case-insensitive), with the matching tickets' labels. */
  searchSummaries(needle: string): SummaryMatches;
};

/**
 * The Stage-A inputs of a run (the files run.json names), parsed once per file version:
 * the lines of a group for the group detail and its prompt, and a text column of the
 * summaries for the rows' free-text filter, which the run's own JSONL rows do not hold.
 */
export async function loadStageAInputs(files: readonly string[], mission: string): Promise<StageAInputs> {
  const parsed = await Promise.all(files.map((file) => parseInput(file, mission)));
  return {
    files: files.map((file, i) => ({ file, sha256: parsed[i].sha256 })),
    signature: parsed.map((input) => input.signature).join('|'),
    linesOfGroup: (groupId) => (parsed.length === 1 ? (parsed[0].byGroup.get(groupId) ?? []) : parsed.flatMap((input) => input.byGroup.get(groupId) ?? [])),
    searchSummaries(needle) {
      if (parsed.length === 1) return searchInput(parsed[0], needle);
      const merged = new Map<string, Set<GroupLabel | null>>();
      for (const input of parsed) {
        for (const [groupId, labels] of searchInput(input, needle)) merged.set(groupId, new Set([...(merged.get(groupId) ?? []), ...labels]));
      }
      return merged;
    },
  };
}
