import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { StageBError } from '../../../shared/errors';
import type { StageARecord } from '../../../shared/schemas/stageARecord';
import { normalizeVerdict, ticketKey, type GroupLabel } from '../../../shared/verdict';
import { compareImageKeys, parseStageALine } from '../../io/ingestStageA';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { locateInvalidUtf8 } from '../../io/utf8';
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

/** The bytes of one parsed input file, shared by its lines (cheaper to keep than a string per line). */
type InputBytes = { file: string; mission: string; bytes: Buffer };

class InputLine implements StageAInputLine {
  constructor(
    private readonly source: InputBytes,
    readonly line: number,
    private readonly start: number,
    private readonly stop: number,
    private readonly validUtf8: boolean,
    readonly groupId: string,
    readonly label: GroupLabel | null,
    readonly imageKeys: string[],
  ) {}

  get file(): string {
    return this.source.file;
  }

  get ticketKey(): string {
    return ticketKey(this.groupId, this.label);
  }

  private text(): string {
    const text = this.source.bytes.toString('utf8', this.start, this.stop);
    return this.line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  value(): Record<string, unknown> {
    return JSON.parse(this.text()) as Record<string, unknown>;
  }

  record(): StageARecord | null {
    if (!this.validUtf8) return null;
    const result = parseStageALine(this.text(), this.source.file, this.line, this.source.mission);
    return result.ok ? result.record : null;
  }
}

/** Parses in flight, by file and signature: a search that arrives during the background parse waits for it instead of parsing again. */
const pending = new Map<string, Promise<ParsedInput>>();

/** A file's parse, or null (with the parse started, or joined) when `wait` is false and it is not done yet. */
async function parseInput(file: string, mission: string, wait = true): Promise<ParsedInput | null> {
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
  if (!wait) {
    parsing.catch(() => undefined);
    return null;
  }
  return parsing;
}

/**
 * The lines of a file as readJsonlLines decodes them (split at \n, a trailing \r and a
 * leading BOM dropped; a line with bytes that are not UTF-8 flagged), from the bytes already
 * read for the digest: one pass, the UTF-8 check only where the decoder left U+FFFD.
 */
function* linesOf(bytes: Buffer): Generator<{ line: number; text: string; start: number; stop: number; validUtf8: boolean }> {
  let start = 0;
  for (let line = 1; start < bytes.length; line += 1) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    let stop = end;
    if (stop > start && bytes[stop - 1] === 0x0d) stop -= 1;
    let text = bytes.toString('utf8', start, stop);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const validUtf8 = !text.includes('\ufffd') || locateInvalidUtf8(bytes.subarray(start, stop)) === null;
    yield { line, text, start, stop, validUtf8 };
    start = end + 1;
  }
}

async function parseFile(file: string, mission: string, signature: string): Promise<ParsedInput> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new StageBError('INPUT_NOT_FOUND', `Stage-A file not readable: ${(error as Error).message}`, { file });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const source: InputBytes = { file, mission, bytes };
  const lines: StageAInputLine[] = [];
  const byGroup = new Map<string, StageAInputLine[]>();
  const text = new TextColumn();
  let sliceStart = performance.now();
  for (const line of linesOf(bytes)) {
    // A long file is parsed in slices, so the page requests around it are not held up.
    if (performance.now() - sliceStart > 20) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
    if (line.text.trim() === '' || !line.text.includes('group_id')) continue;
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch {
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const object = value as Record<string, unknown>;
    // The same values ingest derives (its schema trims group_id and normalizes the label the same way).
    const groupId = typeof object.group_id === 'string' ? object.group_id.trim() : '';
    if (!groupId) continue;
    const perImage = object.per_image && typeof object.per_image === 'object' && !Array.isArray(object.per_image) ? (object.per_image as Record<string, unknown>) : {};
    const imageKeys = Object.keys(perImage).sort(compareImageKeys);
    const entry = new InputLine(source, line.line, line.start, line.stop, line.validUtf8, groupId, normalizeVerdict(object.label), imageKeys);
    lines.push(entry);
    const group = byGroup.get(entry.groupId);
    if (group) group.push(entry);
    else byGroup.set(entry.groupId, [entry]);
    text.push(imageKeys.map((key) => String(perImage[key] ?? '')).join('\n'));
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
export async function loadStageAInputs(files: readonly string[], mission: string): Promise<StageAInputs>;
/** With `wait: false`: null while a file is still being parsed (the parse goes on in the background). */
export async function loadStageAInputs(files: readonly string[], mission: string, options: { wait: false }): Promise<StageAInputs | null>;
export async function loadStageAInputs(files: readonly string[], mission: string, options: { wait: boolean } = { wait: true }): Promise<StageAInputs | null> {
  const all = await Promise.all(files.map((file) => parseInput(file, mission, options.wait)));
  if (all.some((input) => input === null)) return null;
  const parsed = all as ParsedInput[];
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
