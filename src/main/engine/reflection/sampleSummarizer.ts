import { z } from 'zod';
import type { GroupLabel } from '../../../shared/verdict';
import type { Signals } from '../../../shared/schemas/signals';
import type { Ticket } from '../../../shared/schemas/stageARecord';
import type { DecodeParams } from '../../../shared/schemas/decode';
import { renderExperiences } from '../../../shared/guidance/renderExperiences';
import type { LlmBackend, PromptSegments } from '../../llm/LlmBackend';
import { generateStrictJson } from './generateStrictJson';
import { boundedText } from './boundedText';
import { DEFAULT_SAMPLE_SUMMARY_LIMITS, fitSampleSummaryLimits, tokenCosts, type SampleSummaryLimits } from './outputLimits';

/** The default bounds (characters); summarizeSample fits them to the token budget. */
export const SAMPLE_SUMMARY_LIMITS = DEFAULT_SAMPLE_SUMMARY_LIMITS;

/**
 * What the SampleSummarizer must return for one group, as a zod schema and as the same
 * shape in node-llama-cpp's JSON-schema subset (objects require every listed key and
 * allow no others). Written side by side because zod's JSON Schema output (anyOf,
 * $schema) is not in that subset; schemas.test.ts checks that the two agree.
 */
export function buildSampleSummarySchemas(limits: SampleSummaryLimits = DEFAULT_SAMPLE_SUMMARY_LIMITS) {
  const schema = z
    .object({
      summary: boundedText(1, limits.summary),
      critique: boundedText(1, limits.critique),
    })
    .strict();
  const jsonSchema = {
    type: 'object',
    properties: {
      summary: { type: 'string', minLength: 1, maxLength: limits.summary },
      critique: { type: 'string', minLength: 1, maxLength: limits.critique },
    },
    required: ['summary', 'critique'],
    additionalProperties: false,
  };
  return { schema, jsonSchema };
}

const DEFAULT_SCHEMAS = buildSampleSummarySchemas();
export const SampleSummarySchema = DEFAULT_SCHEMAS.schema;
export type SampleSummary = z.infer<typeof SampleSummarySchema>;
export const SAMPLE_SUMMARY_JSON_SCHEMA: Record<string, unknown> = DEFAULT_SCHEMAS.jsonSchema;

export type SampleSummaryInput = {
  mission: string;
  experiences: Record<string, string>;
  ticket: Pick<Ticket, 'ticket_key' | 'summaries'>;
  label: GroupLabel | null;
  verdict: GroupLabel | null;
  reason: string | null;
  vote: { pass: number; fail: number; malformed: number };
  signals: Signals;
};

export type SampleSummaryResult =
  | { summary: string; critique: string; error: null }
  | { summary: null; critique: null; error: string };

const LABEL_TEXT: Record<GroupLabel, string> = { pass: '通过', fail: '不通过' };

function formatSignals(signals: Signals): string {
  return Object.entries(signals)
    .map(([k, v]) => `${k}=${v === null ? 'null' : typeof v === 'number' ? v.toFixed(2) : String(v)}`)
    .join(', ');
}

/**
 * One user-turn text block, no system prompt: task, inputs, then the output contract.
 * The Stage-A summaries are shown so the model can judge the verdict, with an explicit
 * ban on copying them: summaries and critiques feed guidance, which must stay free of
 * per-photo counts.
 */
export function buildSampleSummaryPrompt(input: SampleSummaryInput, limits: SampleSummaryLimits = DEFAULT_SAMPLE_SUMMARY_LIMITS): PromptSegments {
  const photos = input.ticket.summaries.map((s, i) => `图片${i + 1}: ${s.text}`).join('\n');
  const lines = [
    `任务: ${input.mission}`,
    '当前经验:',
    renderExperiences(input.experiences),
    '',
    `工单 ${input.ticket.ticket_key} 的图片摘要（仅供理解，禁止照抄）:`,
    photos,
    '',
    `人工标签: ${input.label ? LABEL_TEXT[input.label] : '无'}`,
    `选中候选的判定: ${input.verdict ? LABEL_TEXT[input.verdict] : '无（全部候选格式错误）'}`,
    `选中候选的理由: ${input.reason ?? '无'}`,
    `候选投票: 通过 ${input.vote.pass}，不通过 ${input.vote.fail}，格式错误 ${input.vote.malformed}`,
    `确定性信号: ${formatSignals(input.signals)}`,
    '',
    '只输出一个 JSON 对象，固定两个键 "summary" 和 "critique"，不要 markdown 代码块，不要任何其他文字。',
    `"summary": 2-3 句，复述选中候选得出的结论及其依据，不超过 ${limits.summary} 字。`,
    `"critique": 1-2 句，指出判定失误的线索或经验需要补充之处，不超过 ${limits.critique} 字。`,
    '不要照抄图片摘要原文（例如 "×1"、"标签/" 这类计数写法）。',
  ];
  return { system: '', userParts: [lines.join('\n')] };
}

/**
 * The SampleSummarizer: one JSON-schema-constrained call per group. Invalid output is a
 * warning for the caller, never fatal: the result then carries nulls and the error.
 * Without explicit `limits` the bounds are fitted to decode.max_new_tokens and the
 * backend's tokens per character, so grammar-bound output is never truncated.
 */
export async function summarizeSample(input: {
  backend: LlmBackend;
  sample: SampleSummaryInput;
  decode: DecodeParams;
  signal?: AbortSignal;
  limits?: SampleSummaryLimits;
}): Promise<SampleSummaryResult> {
  const limits = input.limits ?? fitSampleSummaryLimits(input.decode.max_new_tokens, await tokenCosts(input.backend));
  const { schema, jsonSchema } = buildSampleSummarySchemas(limits);
  const result = await generateStrictJson({
    backend: input.backend,
    prompt: buildSampleSummaryPrompt(input.sample, limits),
    jsonSchema,
    schema,
    decode: input.decode,
    signal: input.signal,
  });
  if (!result.ok) return { summary: null, critique: null, error: result.error };
  return { summary: result.value.summary, critique: result.value.critique, error: null };
}
