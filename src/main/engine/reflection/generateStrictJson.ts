import type { z } from 'zod';
import { StageBError } from '../../../shared/errors';
import type { DecodeParams } from '../../../shared/schemas/decode';
import type { Completion, LlmBackend, PromptSegments } from '../../llm/LlmBackend';

/**
 * Stop strings of every reflection stage. The spec's examples (`\n\n`, `{`, `[`) would
 * cut valid output under a JSON-schema grammar (the grammar may emit `[` and newlines
 * inside the object), and the grammar already ends generation at the closing brace, so
 * only the markdown fence is kept: it stops an unconstrained backend (openai with
 * guided_decoding none) from bleeding a fenced block, which the strict parse rejects anyway.
 */
export const REFLECTION_STOP = ['```'];

export type StrictJsonResult<T> =
  | { ok: true; value: T; text: string; completion: Completion }
  | { ok: false; error: string; text: string; completion: Completion | null };

/**
 * One constrained LLM call whose output must be exactly one JSON object valid against
 * `schema`. No repair, no fence stripping, no "find the first {": anything else
 * (prose, fences, truncation at max tokens, schema violations) is a failure with the
 * parser's message, which callers record in debug_info. Cancellation propagates as
 * a CANCELLED StageBError; other backend errors become failures.
 */
export async function generateStrictJson<T>(input: {
  backend: LlmBackend;
  prompt: PromptSegments;
  jsonSchema: Record<string, unknown>;
  schema: z.ZodType<T>;
  decode: DecodeParams;
  signal?: AbortSignal;
}): Promise<StrictJsonResult<T>> {
  let completion: Completion;
  try {
    const [first] = await input.backend.generate(
      {
        prompt: input.prompt,
        candidates: [input.decode],
        constraint: { kind: 'json_schema', schema: input.jsonSchema },
        stop: REFLECTION_STOP,
      },
      input.signal,
    );
    if (!first) return { ok: false, error: 'backend returned no completion', text: '', completion: null };
    completion = first;
  } catch (error) {
    if (error instanceof StageBError && error.code === 'CANCELLED') throw error;
    const message = error instanceof StageBError ? error.format() : error instanceof Error ? error.message : String(error);
    return { ok: false, error: `backend error: ${message}`, text: '', completion: null };
  }
  const text = completion.text;
  if (completion.finishReason === 'abort') throw new StageBError('CANCELLED', 'reflection generation was cancelled');
  if (completion.finishReason === 'length') {
    return { ok: false, error: `output truncated at max_new_tokens=${input.decode.max_new_tokens} (finishReason length)`, text, completion };
  }
  if (completion.finishReason === 'error') return { ok: false, error: 'backend reported finishReason error', text, completion };
  const parsed = parseStrictJson(text, input.schema);
  return parsed.ok ? { ok: true, value: parsed.value, text, completion } : { ok: false, error: parsed.error, text, completion };
}

/** Exactly one JSON object (surrounding whitespace allowed) that satisfies `schema`. */
export function parseStrictJson<T>(text: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) {
    return { ok: false, error: `output is not a bare JSON object (starts ${JSON.stringify(trimmed.slice(0, 12))}, ends ${JSON.stringify(trimmed.slice(-12))})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch (error) {
    return { ok: false, error: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, error: `schema violation: ${issues.join('; ')}` };
  }
  return { ok: true, value: result.data };
}
