import { z } from 'zod';
import type { FinishReason, OutputConstraint } from '../LlmBackend';
import type { GuidedDecodingMode } from './constraintFields';
import { MalformedChatResponse } from './parseChatResponse';
import type { PlannedChatRequest } from './planChatRequests';

/**
 * llama.cpp server's native `POST /completion`, used instead of /v1/chat/completions.
 *
 * Why: with `--jinja` (the default in current servers) /v1/chat/completions runs the
 * model's output through a PEG parser built from the chat template, and a JSON-schema
 * request makes that parser demand one complete, valid JSON document. Output the
 * grammar accepted can still fail it (a byte-level vocabulary emits invalid UTF-8
 * inside a string; a reasoning template splits off `<think>`), and the server then
 * answers HTTP 500 "The model produced output that does not match the expected
 * peg-native format" (common/chat.cpp, common_chat_peg_parse) — so every reflection
 * stage failed through llama-server. /completion applies the same grammar while
 * sampling and returns the raw text, which is what the engine parses strictly anyway
 * and what the embedded backend returns. The prompt is rendered with the model's own
 * chat template by the server's `POST /apply-template`, so nothing changes in the
 * tokens the model sees.
 */
export function llamaCompletionBody(
  planned: PlannedChatRequest,
  renderedPrompt: string,
  constraint: OutputConstraint,
  mode: GuidedDecodingMode,
  stop: string[] | undefined,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    prompt: renderedPrompt,
    n_predict: planned.max_tokens,
    seed: planned.seed,
    temperature: planned.temperature,
    top_p: planned.top_p,
    // No `cache_prompt`: the server's flag decides (on by default; `--no-cache-prompt` turns it off).
    // A cached prefix is evaluated in other batch shapes than a fresh one, and on the CPU that changes
    // the logits in the last bits, so the same seed can sample another text: replicas that must give
    // identical artifacts whatever their cache held run with --no-cache-prompt (docs/backends.md).
    stream: false,
  };
  if (stop && stop.length > 0) body.stop = stop;
  // /completion speaks one dialect whatever guided_decoding names; `none` still sends nothing.
  if (mode !== 'none') {
    if (constraint.kind === 'gbnf') body.grammar = constraint.grammar;
    else if (constraint.kind === 'json_schema') body.json_schema = constraint.schema;
  }
  return body;
}

const LlamaCompletionSchema = z.object({
  content: z.string(),
  stop_type: z.string().optional(),
  /** Despite the name: the prompt's length in tokens, cached or not. */
  tokens_evaluated: z.number().int().nonnegative().optional(),
  tokens_predicted: z.number().int().nonnegative().optional(),
  timings: z
    .object({
      prompt_n: z.number().int().nonnegative().optional(),
      cache_n: z.number().int().nonnegative().optional(),
      predicted_n: z.number().int().nonnegative().optional(),
    })
    .nullable()
    .optional(),
});

export type ParsedLlamaCompletion = {
  text: string;
  finishReason: FinishReason;
  /** null when the server reported no counts (the caller estimates). */
  usage: { promptTokens: number; cachedTokens: number; completionTokens: number } | null;
};

/** Parses and checks a /completion body (non-streaming). */
export function parseLlamaCompletion(body: string): ParsedLlamaCompletion {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedChatResponse('response body is not JSON', 'not_json');
  }
  const result = LlamaCompletionSchema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    const path = first.path.length > 0 ? first.path.join('.') : '(root)';
    throw new MalformedChatResponse(`response is not a llama.cpp completion: ${path}: ${first.message}`, path === 'content' ? 'missing_content' : 'schema');
  }
  const { content, stop_type, tokens_evaluated, tokens_predicted, timings } = result.data;
  const cached = timings?.cache_n ?? 0;
  const promptTokens = tokens_evaluated ?? (timings?.prompt_n !== undefined ? timings.prompt_n + cached : undefined);
  const completionTokens = tokens_predicted ?? timings?.predicted_n;
  return {
    text: content,
    finishReason: mapStopType(stop_type),
    usage:
      promptTokens !== undefined && completionTokens !== undefined
        ? { promptTokens, cachedTokens: Math.min(promptTokens, cached), completionTokens }
        : null,
  };
}

function mapStopType(stopType: string | undefined): FinishReason {
  switch (stopType) {
    case 'eos':
    case 'word':
      return 'stop';
    case 'limit':
      return 'length';
    default:
      // 'none' (stopped for another reason) or a new value: not a clean finish.
      return 'error';
  }
}
