import { z } from 'zod';
import { normalizeVerdict, type GroupLabel } from './verdict';

/**
 * The verdict protocol the rollout model must follow. `three_line` is the spec's
 * default (Verdict / Reason / Confidence); `two_line` drops the confidence line.
 */
export const VerdictFormatSchema = z.enum(['three_line', 'two_line']);
export type VerdictFormat = z.infer<typeof VerdictFormatSchema>;

export type ParsedVerdict = {
  verdict: GroupLabel;
  reason: string;
  confidence: number | null;
};

export type VerdictParseResult =
  | { ok: true; value: ParsedVerdict }
  | { ok: false; error: string; partial: Partial<ParsedVerdict> };

const LINE_PATTERNS = {
  verdict: /^\s*(?:verdict|判定|结论)\s*[:：]\s*(.*?)\s*$/iu,
  reason: /^\s*(?:reason|理由|原因)\s*[:：]\s*(.*?)\s*$/iu,
  confidence: /^\s*(?:confidence|置信度)\s*[:：]\s*(.*?)\s*$/iu,
};

/** Parses a model response in the verdict protocol. Never throws. */
export function parseVerdictResponse(text: string, format: VerdictFormat = 'three_line'): VerdictParseResult {
  const partial: Partial<ParsedVerdict> = {};
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, error: 'empty response', partial };
  const lines = text.replace(/\r\n?/g, '\n').split('\n').filter((line) => line.trim() !== '');
  let verdictRaw: string | undefined;
  let reasonRaw: string | undefined;
  let confidenceRaw: string | undefined;
  for (const line of lines) {
    const v = LINE_PATTERNS.verdict.exec(line);
    if (v && verdictRaw === undefined) { verdictRaw = v[1]; continue; }
    const r = LINE_PATTERNS.reason.exec(line);
    if (r && reasonRaw === undefined) { reasonRaw = r[1]; continue; }
    const c = LINE_PATTERNS.confidence.exec(line);
    if (c && confidenceRaw === undefined) { confidenceRaw = c[1]; continue; }
  }
  if (verdictRaw === undefined) return { ok: false, error: 'missing Verdict line', partial };
  const verdict = normalizeVerdict(verdictRaw);
  if (!verdict) return { ok: false, error: `unknown verdict ${JSON.stringify(verdictRaw)}`, partial };
  partial.verdict = verdict;
  if (reasonRaw === undefined || reasonRaw === '') return { ok: false, error: 'missing Reason line', partial };
  partial.reason = reasonRaw;
  if (format === 'two_line') return { ok: true, value: { verdict, reason: reasonRaw, confidence: null } };
  if (confidenceRaw === undefined) return { ok: false, error: 'missing Confidence line', partial };
  const confidence = parseConfidence(confidenceRaw);
  if (confidence === null) return { ok: false, error: `confidence ${JSON.stringify(confidenceRaw)} is not a number in [0, 1]`, partial };
  partial.confidence = confidence;
  return { ok: true, value: { verdict, reason: reasonRaw, confidence } };
}

function parseConfidence(raw: string): number | null {
  const trimmed = raw.trim();
  const percent = /^(\d{1,3}(?:\.\d+)?)\s*%$/.exec(trimmed);
  const value = percent ? Number(percent[1]) / 100 : /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : null;
}

/** Renders a parsed verdict back into protocol text (used for the assistant turn in exports). */
export function renderVerdict(value: ParsedVerdict, format: VerdictFormat = 'three_line'): string {
  const verdictWord = value.verdict === 'pass' ? '通过' : '不通过';
  const lines = [`Verdict: ${verdictWord}`, `Reason: ${value.reason}`];
  if (format === 'three_line') lines.push(`Confidence: ${(value.confidence ?? 0).toFixed(2)}`);
  return lines.join('\n');
}

/**
 * GBNF grammar that forces the protocol, so even a random-weight model emits a
 * well-formed verdict. The reason is bounded so a rambling model cannot run past
 * max_new_tokens and lose the confidence line.
 */
export function verdictGrammar(format: VerdictFormat, maxReasonChars = 80): string {
  const reasonMax = Math.max(1, Math.floor(maxReasonChars));
  const rules = [
    format === 'three_line'
      ? 'root ::= "Verdict: " verdict "\\nReason: " reason "\\nConfidence: " confidence'
      : 'root ::= "Verdict: " verdict "\\nReason: " reason',
    'verdict ::= "通过" | "不通过"',
    `reason ::= [^\\n\\r] [^\\n\\r]{0,${reasonMax - 1}}`,
  ];
  if (format === 'three_line') rules.push('confidence ::= "0." [0-9] [0-9] | "1.00"');
  return rules.join('\n') + '\n';
}
