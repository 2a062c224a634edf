import { z } from 'zod';

/**
 * One Stage-A photo summary, parsed. Two formats exist in the wild:
 *
 * - text (the older one): `类别/属性,属性/条件属性×N，类别/…×N`. Entries are separated by
 *   `，`; inside an entry `/` separates attribute levels and `,` attributes of one
 *   level; a trailing `备注:…` is free text; `需复核` (sometimes `需复核备注`,
 *   `需复核,备注:`) marks a photo the Stage-A annotator wanted reviewed.
 *
 * - json (single line): `{"统计":[{"类别":"接地线","属性":["已连接","线径合规"],"数量":1}, …],
 *   "备注":["…"], "需复核":true?, "分组统计":{…}?}`.
 *   Tolerated variants: `属性` as a string (split like the text form), extra string
 *   keys in an entry (their values become attributes), `数量` as a numeric string,
 *   `统计` as an object `{类别: 数量}`, `备注` as a string. `分组统计` is kept only in
 *   `raw` (it restates 统计 per group and adds no evidence).
 *
 * The literal `无关图片` (optionally `×N`) marks an irrelevant photo. Anything else is
 * `unknown` and kept verbatim in `raw`. Parsing never throws: a summary the parser
 * does not understand still reaches the model as text.
 */
export const StageASummaryEntrySchema = z.object({
  category: z.string(),
  attributes: z.array(z.string()),
  count: z.number().int().nonnegative(),
});
export type StageASummaryEntry = z.infer<typeof StageASummaryEntrySchema>;

export const StageASummarySchema = z.object({
  format: z.enum(['text', 'json', 'irrelevant', 'unknown']),
  entries: z.array(StageASummaryEntrySchema),
  remarks: z.array(z.string()),
  review_marker: z.boolean(),
  raw: z.string(),
});
export type StageASummary = z.infer<typeof StageASummarySchema>;

/** An entry as a generator writes it: optionally with a remark and a review marker. */
export type StageASummaryEntryInput = StageASummaryEntry & { remark?: string; review?: boolean };

export const IRRELEVANT_IMAGE = '无关图片';

const IRRELEVANT_PATTERN = /^无关图片(?:×\d+)?$/u;
const COUNT_SUFFIX = /×\s*(\d+)\s*$/u;
const REVIEW_PATTERN = /需(?:要)?复核/u;
const REMARK_PATTERN = /备注[:：]/u;

function parseTextEntry(segment: string, remarks: string[]): { entry: StageASummaryEntry; review: boolean; counted: boolean } {
  let body = segment;
  let count = 1;
  const countMatch = COUNT_SUFFIX.exec(body);
  if (countMatch) {
    count = Number.parseInt(countMatch[1], 10);
    if (!Number.isSafeInteger(count)) count = 0;
    body = body.slice(0, countMatch.index).trim();
  }
  let review = REVIEW_PATTERN.test(body);
  const slash = body.indexOf('/');
  const category = (slash === -1 ? body : body.slice(0, slash)).trim();
  let rest = slash === -1 ? '' : body.slice(slash + 1);
  const remarkMatch = REMARK_PATTERN.exec(rest);
  if (remarkMatch) {
    const remark = rest.slice(remarkMatch.index + remarkMatch[0].length).trim();
    if (remark) remarks.push(remark);
    rest = rest.slice(0, remarkMatch.index);
  }
  const attributes: string[] = [];
  for (const token of rest.split(/[/,，]/u)) {
    const value = token.trim();
    if (!value) continue;
    if (REVIEW_PATTERN.test(value)) {
      review = true;
      continue;
    }
    attributes.push(value);
  }
  return { entry: { category, attributes, count }, review, counted: countMatch !== null };
}

function parseText(raw: string, text: string): StageASummary {
  const remarks: string[] = [];
  const entries: StageASummaryEntry[] = [];
  let review = false;
  let structured = 0;
  for (const piece of text.split('，')) {
    const segment = piece.trim();
    if (!segment) continue;
    const parsed = parseTextEntry(segment, remarks);
    if (parsed.counted || segment.includes('/')) structured += 1;
    review ||= parsed.review;
    entries.push(parsed.entry);
  }
  if (structured === 0) return { format: 'unknown', entries: [], remarks: [], review_marker: REVIEW_PATTERN.test(text), raw };
  return { format: 'text', entries, remarks, review_marker: review, raw };
}

function asStringList(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() ? [value.trim()] : [];
  if (Array.isArray(value)) return value.flatMap((item) => (typeof item === 'string' || typeof item === 'number' ? [String(item).trim()] : [])).filter(Boolean);
  return [];
}

function asCount(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) {
    const parsed = Number.parseInt(value, 10);
    if (Number.isSafeInteger(parsed)) return parsed;
  }
  return 1;
}

const ENTRY_RESERVED_KEYS = new Set(['类别', '属性', '数量', '备注', '需复核']);

function parseJsonEntry(item: unknown, remarks: string[]): { entry: StageASummaryEntry; review: boolean } | null {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return null;
  const record = item as Record<string, unknown>;
  const category = typeof record['类别'] === 'string' ? record['类别'].trim() : '';
  let review = record['需复核'] === true;
  const attributes: string[] = [];
  const declared = record['属性'];
  const declaredList = typeof declared === 'string' ? declared.split(/[/,，]/u) : asStringList(declared);
  for (const [key, value] of Object.entries(record)) {
    if (ENTRY_RESERVED_KEYS.has(key)) continue;
    if (typeof value === 'string' || Array.isArray(value)) declaredList.push(...asStringList(value));
  }
  for (const token of declaredList) {
    const value = token.trim();
    if (!value) continue;
    if (REVIEW_PATTERN.test(value)) {
      review = true;
      continue;
    }
    attributes.push(value);
  }
  for (const remark of asStringList(record['备注'])) {
    if (REVIEW_PATTERN.test(remark)) review = true;
    remarks.push(remark);
  }
  return { entry: { category, attributes, count: asCount(record['数量']) }, review };
}

function parseJson(raw: string, value: Record<string, unknown>): StageASummary {
  const remarks: string[] = [];
  const entries: StageASummaryEntry[] = [];
  let review = value['需复核'] === true;
  const stats = value['统计'];
  if (Array.isArray(stats)) {
    for (const item of stats) {
      const parsed = parseJsonEntry(item, remarks);
      if (!parsed) continue;
      entries.push(parsed.entry);
      review ||= parsed.review;
    }
  } else if (stats && typeof stats === 'object') {
    for (const [category, count] of Object.entries(stats as Record<string, unknown>)) {
      entries.push({ category, attributes: [], count: asCount(count) });
    }
  }
  for (const remark of asStringList(value['备注'])) {
    if (REVIEW_PATTERN.test(remark)) review = true;
    remarks.push(remark);
  }
  return { format: 'json', entries, remarks, review_marker: review, raw };
}

export function parseStageASummary(text: string): StageASummary {
  const raw = typeof text === 'string' ? text : String(text);
  try {
    const trimmed = raw.trim();
    if (!trimmed) return { format: 'unknown', entries: [], remarks: [], review_marker: false, raw };
    if (IRRELEVANT_PATTERN.test(trimmed)) return { format: 'irrelevant', entries: [], remarks: [], review_marker: false, raw };
    if (trimmed.startsWith('{')) {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch {
        return { format: 'unknown', entries: [], remarks: [], review_marker: REVIEW_PATTERN.test(trimmed), raw };
      }
      if (value && typeof value === 'object' && !Array.isArray(value) && '统计' in value) {
        return parseJson(raw, value as Record<string, unknown>);
      }
      return { format: 'unknown', entries: [], remarks: [], review_marker: REVIEW_PATTERN.test(trimmed), raw };
    }
    return parseText(raw, trimmed);
  } catch {
    return { format: 'unknown', entries: [], remarks: [], review_marker: false, raw };
  }
}

/** Renders entries in the old text form (inverse of the text parser for clean tokens). */
export function renderStageASummaryText(entries: readonly StageASummaryEntryInput[]): string {
  return entries
    .map((entry) => {
      const attributes = entry.attributes.join(',');
      const marker = [entry.review ? '需复核' : '', entry.remark ? `备注:${entry.remark}` : ''].filter(Boolean).join(',');
      const tail = [attributes, marker].filter(Boolean).join('/');
      return `${entry.category}${tail ? `/${tail}` : ''}×${entry.count}`;
    })
    .join('，');
}

/** Renders entries in the single-line JSON form. */
export function renderStageASummaryJson(
  entries: readonly StageASummaryEntryInput[],
  options: { remarks?: readonly string[]; groupStats?: Record<string, number> } = {},
): string {
  const remarks = [...(options.remarks ?? [])];
  let review = false;
  const stats = entries.map((entry) => {
    if (entry.review) review = true;
    if (entry.remark) remarks.push(entry.remark);
    return { 类别: entry.category, 属性: [...entry.attributes], 数量: entry.count };
  });
  const value: Record<string, unknown> = { 统计: stats, 备注: remarks };
  if (review) value['需复核'] = true;
  if (options.groupStats) value['分组统计'] = options.groupStats;
  return JSON.stringify(value);
}

const SUMMARY_SHAPES: readonly RegExp[] = [
  /[^\s×]×\s*\d+/u, // a counted entry: 类别/属性×2
  /标签\s*\//u,
  /image_\d+/u,
  /^\s*无关图片/u,
];

/**
 * True for text that looks like (part of) a Stage-A summary rather than a rule.
 * The guidance repository rejects such text as an experience: copied evidence
 * would leak one ticket's facts into every prompt.
 */
export function looksLikeStageASummary(text: string): boolean {
  if (typeof text !== 'string' || !text.trim()) return false;
  if (SUMMARY_SHAPES.some((pattern) => pattern.test(text))) return true;
  const brace = text.indexOf('{');
  if (brace !== -1 && text.includes('统计')) {
    const parsed = parseStageASummary(text.slice(brace));
    if (parsed.format === 'json') return true;
    if (/["“]统计["”]\s*[:：]/u.test(text)) return true;
  }
  return false;
}
