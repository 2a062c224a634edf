import { z } from 'zod';
import type { FinishReason } from '../LlmBackend';

const ChatChoiceSchema = z.object({
  index: z.number().int().nonnegative(),
  message: z.object({ content: z.string() }),
  finish_reason: z.string().nullable().optional(),
});

const UsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  prompt_tokens_details: z
    .object({ cached_tokens: z.number().int().nonnegative().nullable().optional() })
    .nullable()
    .optional(),
});

const ChatCompletionResponseSchema = z.object({
  choices: z.array(ChatChoiceSchema),
  usage: UsageSchema.nullable().optional(),
  // llama.cpp server reports prompt-cache reuse here rather than in usage.
  timings: z.object({ cache_n: z.number().int().nonnegative().optional() }).nullable().optional(),
});

export type ParsedChatChoice = { text: string; finishReason: FinishReason };

export type ParsedChatResponse = {
  /** choices[i] is the choice with index i. */
  choices: ParsedChatChoice[];
  usage: { promptTokens: number; completionTokens: number; cachedTokens: number } | null;
};

/** Why a body is not a usable chat completion; the backend wraps it in BACKEND_MALFORMED_RESPONSE. */
export class MalformedChatResponse extends Error {
  constructor(
    message: string,
    readonly issue: string,
  ) {
    super(message);
  }
}

/** Parses and checks a /chat/completions body that asked for `expectedChoices` choices. */
export function parseChatResponse(body: string, expectedChoices: number): ParsedChatResponse {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedChatResponse('response body is not JSON', 'not_json');
  }
  const result = ChatCompletionResponseSchema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    const path = first.path.length > 0 ? first.path.join('.') : '(root)';
    const issue = first.path[0] === 'choices' && first.path.length === 1 ? 'missing_choices' : path.includes('content') ? 'missing_content' : 'schema';
    throw new MalformedChatResponse(`response is not a chat completion: ${path}: ${first.message}`, issue);
  }
  const { choices, usage, timings } = result.data;
  if (choices.length !== expectedChoices) {
    throw new MalformedChatResponse(`asked for n=${expectedChoices} choices, got ${choices.length}`, 'wrong_n');
  }
  const ordered: ParsedChatChoice[] = new Array(expectedChoices);
  for (const choice of choices) {
    if (choice.index >= expectedChoices || ordered[choice.index]) {
      throw new MalformedChatResponse(`choice indices must be 0..${expectedChoices - 1}, each once; got index ${choice.index}`, 'wrong_n');
    }
    ordered[choice.index] = { text: choice.message.content, finishReason: mapFinishReason(choice.finish_reason) };
  }
  return {
    choices: ordered,
    usage: usage
      ? {
          promptTokens: usage.prompt_tokens,
          completionTokens: usage.completion_tokens,
          cachedTokens: Math.min(usage.prompt_tokens, usage.prompt_tokens_details?.cached_tokens ?? timings?.cache_n ?? 0),
        }
      : null,
  };
}

function mapFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
    case 'eos':
      return 'stop';
    case 'length':
      return 'length';
    case 'abort':
      return 'abort';
    default:
      // null, content_filter, tool_calls, or anything new: the text is not a clean finish.
      return 'error';
  }
}
