import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { StageBError } from '../../../shared/errors';
import type { StageARecord } from '../../../shared/schemas/stageARecord';
import { normalizeVerdict, ticketKey, type GroupLabel } from '../../../shared/verdict';
import { compareImageKeys, parseStageALine } from '../../io/ingestStageA';
import { readJsonlLines } from '../../io/jsonl';
import { TextColumn } from '../TextColumn';

/**
 * One Stage-A line of a run's input, as the engine's ingest saw it: `record` is what
 * parseStageALine made of it (null when ingest would have refused the line, so it never
 * reached the model), `value` the raw JSON object either way.
 */
export type StageAInputLine = {
  file: string;
  line: number;
  groupId: string;
  label: GroupLabel | null;
  ticketKey: string;
  value: Record<string, unknown>;
  record: StageARecord | null;
  /** per_image keys in the order the prompt lists them (compareImageKeys, as ingest sorts). */
  imageKeys: string[];
};

/** One input file of a run, parsed once and kept while its size, mtime and inode stay the same. */
type ParsedInput = {
  signature: string;
  sha256: string;
  lines: StageAInputLine[];
  /** The lowercase Stage-A summaries of each line, row k = lines[k] (the text filter's second half). */
  text: TextColumn;
};

const MAX_CACHED_FILES = 16;
const cache = new Map<string, ParsedInput>();

function signatureOf(info: { size: number; mtimeMs: number; ino: number; dev: number }): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
}

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
  const sha256 = createHash('sha256').update(await readFile(file)).digest('hex');
  const lines: StageAInputLine[] = [];
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
    const object = value as Record<string, unknown>;
    const parsed = line.invalidUtf8 ? null : parseStageALine(line.text, file, line.line, mission);
    const record = parsed?.ok ? parsed.record : null;
    const rawGroupId = typeof object.group_id === 'string' ? object.group_id : null;
    const groupId = record?.group_id ?? rawGroupId?.trim();
    if (!groupId) continue;
    const label = record ? (record.label ?? null) : normalizeVerdict(object.label);
    const perImage = (record?.per_image ?? (object.per_image && typeof object.per_image === 'object' ? object.per_image : {})) as Record<string, unknown>;
    const imageKeys = Object.keys(perImage).sort(compareImageKeys);
    lines.push({ file, line: line.line, groupId, label, ticketKey: ticketKey(groupId, label), value: object, record, imageKeys });
    text.push(imageKeys.map((key) => String(perImage[key] ?? '')).join('\n'));
  }
  const entry = { signature, sha256, lines, text };
  cache.set(file, entry);
  while (cache.size > MAX_CACHED_FILES) cache.delete(cache.keys().next().value as string);
  return entry;
}

export type StageAInputs = {
  files: { file: string; sha256: string }[];
  /** Every line whose group is `groupId`, in file order (a group can be resubmitted with the other label). */
  linesOfGroup(groupId: string): StageAInputLine[];
  /**
   * The tickets whose Stage-A summaries contain `needle` (case-insensitive), as the
   * groups they belong to with the labels of the matching tickets.
   */
  searchSummaries(needle: string): Map<string, Set<GroupLabel | null>>;
  /** How many tickets a group has across the inputs. */
  ticketCount(groupId: string): number;
};

/**
 * The Stage-A inputs of a run (the files run.json names), parsed once per file version:
 * the lines of a group for the group detail and its prompt, and a text column of the
 * summaries for the rows' free-text filter, which the run's own JSONL rows do not hold.
 */
export async function loadStageAInputs(files: readonly string[], mission: string): Promise<StageAInputs> {
  const parsed = await Promise.all(files.map((file) => parseInput(file, mission)));
  let byGroup: Map<string, StageAInputLine[]> | null = null;
  const groups = () => {
    if (byGroup) return byGroup;
    byGroup = new Map();
    for (const input of parsed) {
      for (const line of input.lines) {
        const list = byGroup.get(line.groupId) ?? [];
        list.push(line);
        byGroup.set(line.groupId, list);
      }
    }
    return byGroup;
  };
  return {
    files: files.map((file, i) => ({ file, sha256: parsed[i].sha256 })),
    linesOfGroup: (groupId) => groups().get(groupId) ?? [],
    ticketCount: (groupId) => groups().get(groupId)?.length ?? 0,
    searchSummaries(needle) {
      const matches = new Map<string, Set<GroupLabel | null>>();
      for (const input of parsed) {
        const mask = new Uint8Array(input.lines.length);
        if (input.text.search(needle, mask) === 0) continue;
        for (let k = 0; k < mask.length; k += 1) {
          if (mask[k] === 0) continue;
          const line = input.lines[k];
          const labels = matches.get(line.groupId) ?? new Set();
          labels.add(line.label);
          matches.set(line.groupId, labels);
        }
      }
      return matches;
    },
  };
}
