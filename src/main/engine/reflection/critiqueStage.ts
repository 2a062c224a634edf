import { z } from 'zod';
import type { ReflectionOperation } from '../../../shared/schemas/records';
import { renderExperiences } from '../../../shared/guidance/renderExperiences';
import { isInvariantKey, learnedKeyIndex, sortExperienceKeys } from '../../../shared/guidance/sortExperienceKeys';
import type { DecodeParams } from '../../../shared/schemas/decode';
import type { LlmBackend, PromptSegments } from '../../llm/LlmBackend';
import { generateStrictJson } from './generateStrictJson';
import { boundedText } from './boundedText';
import { DEFAULT_CRITIQUE_LIMITS, fitCritiqueLimits, tokenCosts, type CritiqueLimits } from './outputLimits';
import { CritiqueArtifactSchema, type CritiqueArtifact, type SummaryArtifact } from './reflectionArtifacts';
import { reflectionDecode } from './reflectionDecode';
import { defineReflectionStage } from './runCachedStage';
import { summaryStage } from './summaryStage';

/** The default bounds; runCritiqueStage fits them to the token budget (outputLimits.ts). */
export const CRITIQUE_LIMITS = DEFAULT_CRITIQUE_LIMITS;

export type CritiqueKeySpace = {
  /** Existing learned keys (G0..Gn) that may be modified or merged into. */
  editable: string[];
  /** Keys that may be removed or merged away (G1+, never G0 or S<n>). */
  removable: string[];
  /** The key an `add` receives (applyOperations appends after the highest G key). */
  addKey: string;
  /** ticket_keys of the learnable groups: the only allowed evidence. */
  evidence: string[];
};

export function critiqueKeySpace(experiences: Readonly<Record<string, string>>, evidence: readonly string[]): CritiqueKeySpace {
  const keys = sortExperienceKeys(Object.keys(experiences)).filter((k) => !isInvariantKey(k) && learnedKeyIndex(k) !== null);
  const highest = Math.max(0, ...keys.map((k) => learnedKeyIndex(k) ?? 0));
  return {
    editable: keys,
    removable: keys.filter((k) => k !== 'G0'),
    addKey: `G${highest + 1}`,
    evidence: [...evidence],
  };
}

/**
 * The critique stage's output contract, built per call because the allowed keys and
 * evidence ids depend on the current guidance and the batch. One variant per op, each
 * listing every key it uses (node-llama-cpp's grammar requires all listed properties),
 * so that the grammar itself rules out an add without text or a merge without sources.
 * At least one operation is required: the spec treats an empty answer as a generation
 * error, so under the grammar the model cannot produce one (doubt goes in
 * uncertainty_note, and the holdout gate decides); an unconstrained backend's empty
 * list still fails the zod parse and becomes generation_error.
 * The zod schema and the JSON schema are built side by side from the same lists;
 * critiqueStage.test.ts checks that they agree.
 */
export function buildCritiqueSchemas(space: CritiqueKeySpace, limits: CritiqueLimits = DEFAULT_CRITIQUE_LIMITS): { schema: z.ZodType<CritiqueOutput>; jsonSchema: Record<string, unknown> } {
  const text = boundedText(1, limits.text);
  const rationale = boundedText(0, limits.rationale);
  const evidence = z.array(z.enum(space.evidence as [string, ...string[]])).min(1).max(limits.evidence);
  const jText = { type: 'string', minLength: 1, maxLength: limits.text };
  const jRationale = { type: 'string', minLength: 0, maxLength: limits.rationale };
  const jEvidence = { type: 'array', items: { enum: space.evidence }, minItems: 1, maxItems: limits.evidence };

  const zVariants: z.ZodObject[] = [];
  const jVariants: Record<string, unknown>[] = [];
  const variant = (op: string, props: Record<string, [z.ZodType, Record<string, unknown>]>) => {
    const all: Record<string, [z.ZodType, Record<string, unknown>]> = { op: [z.literal(op), { const: op }], ...props, rationale: [rationale, jRationale], evidence: [evidence, jEvidence] };
    zVariants.push(z.object(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v[0]]))).strict());
    jVariants.push({
      type: 'object',
      properties: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v[1]])),
      required: Object.keys(all),
      additionalProperties: false,
    });
  };
  variant('add', { key: [z.literal(space.addKey), { const: space.addKey }], text: [text, jText] });
  if (space.editable.length > 0) {
    variant('modify', { key: [z.enum(space.editable as [string, ...string[]]), { enum: space.editable }], text: [text, jText] });
  }
  if (space.removable.length > 0) {
    variant('remove', { key: [z.enum(space.removable as [string, ...string[]]), { enum: space.removable }] });
  }
  if (space.editable.length > 0 && space.removable.length > 0) {
    variant('merge', {
      key: [z.enum(space.editable as [string, ...string[]]), { enum: space.editable }],
      text: [text, jText],
      merge_from: [
        z.array(z.enum(space.removable as [string, ...string[]])).min(1).max(limits.merge_from),
        { type: 'array', items: { enum: space.removable }, minItems: 1, maxItems: limits.merge_from },
      ],
    });
  }
  const operation = zVariants.length === 1 ? zVariants[0] : z.union(zVariants as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]);
  const schema = z
    .object({
      operations: z.array(operation).min(1).max(limits.operations),
      uncertainty_note: boundedText(1, limits.uncertainty_note).nullable(),
    })
    .strict() as unknown as z.ZodType<CritiqueOutput>;
  const jsonSchema = {
    type: 'object',
    properties: {
      operations: { type: 'array', items: jVariants.length === 1 ? jVariants[0] : { oneOf: jVariants }, minItems: 1, maxItems: limits.operations },
      uncertainty_note: { oneOf: [{ type: 'string', minLength: 1, maxLength: limits.uncertainty_note }, { type: 'null' }] },
    },
    required: ['operations', 'uncertainty_note'],
    additionalProperties: false,
  };
  return { schema, jsonSchema };
}

export type CritiqueOutputOperation = {
  op: 'add' | 'modify' | 'merge' | 'remove';
  key: string;
  text?: string;
  merge_from?: string[];
  rationale: string;
  evidence: string[];
};
export type CritiqueOutput = { operations: CritiqueOutputOperation[]; uncertainty_note: string | null };

/** The model's operation in the stored ReflectionOperation form (empty rationale dropped). */
export function toReflectionOperation(op: CritiqueOutputOperation): ReflectionOperation {
  const out: ReflectionOperation = { op: op.op, key: op.key, evidence: [...op.evidence] };
  if (op.text !== undefined) out.text = op.text;
  if (op.rationale.trim() !== '') out.rationale = op.rationale;
  if (op.merge_from !== undefined) out.merge_from = [...op.merge_from];
  return out;
}

const LABEL_TEXT = { pass: '通过', fail: '不通过' } as const;

/**
 * One text block: the experiences block, the summaries block, then the output contract.
 * Only the stage-1 summaries go in — never Stage-A text — so the model has nothing to copy
 * but its own critic notes.
 */
export function buildCritiquePrompt(input: { mission: string; experiences: Record<string, string>; summary: SummaryArtifact; space: CritiqueKeySpace; limits?: CritiqueLimits }): PromptSegments {
  const limits = input.limits ?? DEFAULT_CRITIQUE_LIMITS;
  const groups = input.summary.groups.map((g) => {
    const match = g.signals.label_match === null ? '无法比较' : g.signals.label_match ? '一致' : '不一致';
    return [
      `- ${g.ticket_key}: 标签 ${g.label ? LABEL_TEXT[g.label] : '无'}，判定 ${g.verdict ? LABEL_TEXT[g.verdict] : '无'}（${match}），投票 通过${g.vote.pass}/不通过${g.vote.fail}/格式错误${g.vote.malformed}`,
      `  理由: ${g.reason ?? '无'}`,
      `  总结: ${g.summary ?? '无'}`,
      `  批评: ${g.critique ?? '无'}`,
    ].join('\n');
  });
  const lines = [
    `任务: ${input.mission}`,
    '当前经验:',
    renderExperiences(input.experiences),
    '',
    '本批样本总结:',
    ...groups,
    '',
    '根据以上总结修订经验，使判定与人工标签一致。',
    '只输出一个 JSON 对象，固定两个键 "operations" 和 "uncertainty_note"，不要 markdown 代码块，不要任何其他文字。',
    `"operations": 最多 ${limits.operations} 个操作，每个操作的键固定为 op、key、text、merge_from（仅 merge）、rationale、evidence。`,
    `  op=add: 新增一条经验，key 固定为 "${input.space.addKey}"；op=modify: 改写已有经验；op=merge: 把 merge_from 中的经验并入 key；op=remove: 删除经验（G0 不可删除）。`,
    `  text 是一条通用规则，不超过 ${limits.text} 字；evidence 只能填上面列出的工单编号。`,
    '  不要照抄样本总结或图片摘要（例如 "×1"、"标签/" 这类计数写法），经验必须是可复用的检查规则。',
    '"uncertainty_note": 若证据不足或可能是标签错误，写一句说明；否则为 null。',
  ];
  return { system: '', userParts: [lines.join('\n')] };
}

export type CritiqueResult =
  | { ok: true; operations: ReflectionOperation[]; uncertainty_note: string | null; raw_text: string }
  | { ok: false; error: string; raw_text: string; finish_reason: string | null };

export async function runCritiqueStage(input: {
  backend: LlmBackend;
  mission: string;
  experiences: Record<string, string>;
  summary: SummaryArtifact;
  decode: DecodeParams;
  signal?: AbortSignal;
}): Promise<CritiqueResult> {
  const space = critiqueKeySpace(input.experiences, input.summary.groups.map((g) => g.ticket_key));
  const limits = fitCritiqueLimits(
    input.decode.max_new_tokens,
    await tokenCosts(input.backend),
    Math.max(...space.evidence.map((k) => new TextEncoder().encode(k).length)),
  );
  const { schema, jsonSchema } = buildCritiqueSchemas(space, limits);
  const result = await generateStrictJson({
    backend: input.backend,
    prompt: buildCritiquePrompt({ mission: input.mission, experiences: input.experiences, summary: input.summary, space, limits }),
    jsonSchema,
    schema,
    decode: input.decode,
    signal: input.signal,
  });
  if (!result.ok) return { ok: false, error: result.error, raw_text: result.text, finish_reason: result.completion?.finishReason ?? null };
  return {
    ok: true,
    operations: result.value.operations.map(toReflectionOperation),
    uncertainty_note: result.value.uncertainty_note,
    raw_text: result.text,
  };
}

/**
 * The critique stage: the model's operations for the summarised batch. Output that is not
 * valid JSON of the contract, or no operation at all, is a generation_error (nothing is
 * cached for invalid output; an empty list is cached and ends the decision on reuse too).
 */
export const critiqueStage = defineReflectionStage<CritiqueArtifact>({
  name: 'critique',
  schema: CritiqueArtifactSchema,
  inputs(batch, earlier) {
    const summary = earlier.get(summaryStage);
    return { summary: summary.inputs_fingerprint, groups: summary.groups, experiences: batch.experiencesFingerprint, max_new_tokens: batch.ctx.config.max_new_tokens };
  },
  async run(batch, earlier, inputsFingerprint) {
    const { ctx } = batch;
    const result = await runCritiqueStage({
      backend: ctx.backend,
      mission: ctx.mission,
      experiences: batch.current.experiences,
      summary: earlier.get(summaryStage),
      decode: reflectionDecode(ctx.seed, ctx.config.max_new_tokens, 'critique', ctx.epoch, ctx.cycle),
      signal: ctx.signal,
    });
    if (!result.ok) {
      batch.debug.error = { stage: 'critique', message: result.error, finish_reason: result.finish_reason, raw_text: result.raw_text.slice(0, 4000) };
      return { end: { reason: 'generation_error' }, status: 'failed', llmCalls: 1 };
    }
    return {
      artifact: {
        stage: 'critique',
        schema_version: 1,
        ...batch.header,
        inputs_fingerprint: inputsFingerprint,
        operations: result.operations,
        uncertainty_note: result.uncertainty_note,
        raw_text: result.raw_text,
      },
      llmCalls: 1,
    };
  },
  check(critique, batch) {
    if (critique.operations.length > 0) return null;
    batch.debug.error = { stage: 'critique', message: 'the critique returned zero operations' };
    return { reason: 'generation_error', uncertainty: critique.uncertainty_note };
  },
});
