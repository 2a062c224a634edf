import type { LlmBackend } from '../../llm/LlmBackend';

/**
 * Length bounds of the reflection outputs, sized so that the JSON a grammar allows always
 * fits in max_new_tokens: a truncated answer is a generation error, so a bound the token
 * budget cannot hold would waste every call (a random-weight model writes strings up to
 * maxLength, and a byte-level vocabulary spends 3 tokens on a CJK character).
 *
 * Worst case = ASCII structure (keys, quotes, the grammar's optional newline + indentation)
 * × tokens per ASCII character + string characters × tokens per character.
 */
export type TokenCosts = {
  /** Tokens per character inside a model-written string (CJK text, with a margin). */
  perChar: number;
  /** Tokens per character of JSON structure and ids (ASCII). */
  perAsciiChar: number;
};
export type SampleSummaryLimits = { summary: number; critique: number };
export type CritiqueLimits = {
  operations: number;
  text: number;
  rationale: number;
  evidence: number;
  merge_from: number;
  uncertainty_note: number;
};

export const DEFAULT_SAMPLE_SUMMARY_LIMITS: SampleSummaryLimits = { summary: 200, critique: 120 };
export const DEFAULT_CRITIQUE_LIMITS: CritiqueLimits = { operations: 3, text: 160, rationale: 100, evidence: 4, merge_from: 3, uncertainty_note: 120 };

const SUMMARY_STRUCTURE = 56;
const CRITIQUE_STRUCTURE = 64;
const OPERATION_STRUCTURE = 170;
const LIST_ITEM_STRUCTURE = 16;
const MERGE_KEY_CHARS = 4;

export function sampleSummaryWorstTokens(limits: SampleSummaryLimits, costs: TokenCosts): number {
  return SUMMARY_STRUCTURE * costs.perAsciiChar + (limits.summary + limits.critique) * costs.perChar;
}

export function critiqueWorstTokens(limits: CritiqueLimits, costs: TokenCosts, evidenceKeyChars: number): number {
  const asciiPerOperation =
    OPERATION_STRUCTURE +
    limits.evidence * (evidenceKeyChars + LIST_ITEM_STRUCTURE) +
    limits.merge_from * (MERGE_KEY_CHARS + LIST_ITEM_STRUCTURE);
  const perOperation = asciiPerOperation * costs.perAsciiChar + (limits.text + limits.rationale) * costs.perChar;
  return CRITIQUE_STRUCTURE * costs.perAsciiChar + limits.operations * perOperation + limits.uncertainty_note * costs.perChar;
}

/** The default bounds, scaled down (never below 8 characters) until the worst case fits. */
export function fitSampleSummaryLimits(maxNewTokens: number, costs: TokenCosts): SampleSummaryLimits {
  const d = DEFAULT_SAMPLE_SUMMARY_LIMITS;
  if (sampleSummaryWorstTokens(d, costs) <= maxNewTokens) return { ...d };
  const chars = Math.max(0, Math.floor((maxNewTokens - SUMMARY_STRUCTURE * costs.perAsciiChar) / costs.perChar));
  const scale = chars / (d.summary + d.critique);
  return { summary: Math.max(8, Math.floor(d.summary * scale)), critique: Math.max(8, Math.floor(d.critique * scale)) };
}

/**
 * Fewer operations and evidence ids first (while an experience text of >= 40 characters
 * still fits), then shorter strings; the last shape (one operation, one evidence id)
 * keeps at least 16 characters of text even if the budget is too small for it.
 */
export function fitCritiqueLimits(maxNewTokens: number, costs: TokenCosts, evidenceKeyChars: number): CritiqueLimits {
  const d = DEFAULT_CRITIQUE_LIMITS;
  const shapes: [number, number, number][] = [[3, 4, 3], [2, 3, 2], [1, 2, 1], [1, 1, 1]];
  for (let i = 0; i < shapes.length; i++) {
    const [operations, evidence, merge_from] = shapes[i];
    const shape = { ...d, operations, evidence, merge_from };
    if (critiqueWorstTokens(shape, costs, evidenceKeyChars) <= maxNewTokens) return shape;
    const fixed = critiqueWorstTokens({ ...shape, text: 0, rationale: 0, uncertainty_note: 0 }, costs, evidenceKeyChars);
    const chars = Math.max(0, Math.floor((maxNewTokens - fixed) / costs.perChar));
    const scale = chars / (operations * (d.text + d.rationale) + d.uncertainty_note);
    const text = Math.floor(d.text * scale);
    if (text >= 40 || i === shapes.length - 1) {
      return {
        ...shape,
        text: Math.max(16, text),
        rationale: Math.max(8, Math.floor(d.rationale * scale)),
        uncertainty_note: Math.max(8, Math.floor(d.uncertainty_note * scale)),
      };
    }
  }
  throw new Error('unreachable');
}

const CJK_PROBE = '接地线端子锈蚀判定通过不通过';
const ASCII_PROBE = '{"operations": [\n        {"op": "modify", "key": "G12", "evidence": ["g-0012::fail"]}]}';
const costsMemo = new WeakMap<LlmBackend, Promise<TokenCosts>>();

/**
 * The backend's token costs, measured once per backend on two probes. CJK gets a 1.5×
 * margin for characters rarer than the probe's (a byte-level vocabulary: 3 → 4.5; a
 * BPE vocabulary: ~0.8 → ~1.2). A backend that cannot count falls back to byte-level costs.
 */
export function tokenCosts(backend: LlmBackend): Promise<TokenCosts> {
  let memo = costsMemo.get(backend);
  if (!memo) {
    memo = Promise.all([backend.countTextTokens(CJK_PROBE), backend.countTextTokens(ASCII_PROBE)])
      .then(([cjk, ascii]) => ({
        perChar: Math.max(1, (cjk / [...CJK_PROBE].length) * 1.5),
        perAsciiChar: Math.min(1, Math.max(0.25, ascii / ASCII_PROBE.length)),
      }))
      .catch(() => ({ perChar: 4.5, perAsciiChar: 1 }));
    costsMemo.set(backend, memo);
  }
  return memo;
}
