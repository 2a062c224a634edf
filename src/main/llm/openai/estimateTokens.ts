import type { PromptSegments } from '../LlmBackend';

/**
 * Token estimate for servers without a tokenize endpoint. It is meant to err
 * high, because it feeds prompt budgets: an overestimate drops a ticket that
 * would have fitted (reported, visible), an underestimate sends a prompt the
 * server rejects mid-run.
 *
 * Rule: every ASCII letter counts 1/2 token, every other code point (digit,
 * punctuation, whitespace, CJK, emoji) counts 1 token, rounded up; plus a fixed
 * chat-template overhead per message. Why it errs high for the models we serve:
 * - English words average about 4 letters per BPE token; we assume 2.
 * - Qwen and Llama-3 tokenizers split digits into at most one token per digit.
 * - Common CJK characters are single tokens or merge into multi-character
 *   tokens (Qwen averages about 1.4 characters per token on Chinese text); we
 *   assume one token per character.
 * It can undercount only text dominated by rare characters that fall back to
 * byte tokens (up to 4 per code point); use a server with /tokenize for exact counts.
 */
export const TEMPLATE_TOKENS_PER_MESSAGE = 8;
export const TEMPLATE_TOKENS_FOR_GENERATION_PROMPT = 8;

export function estimateTextTokens(text: string): number {
  let letters = 0;
  let others = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122)) letters++;
    else others++;
  }
  return others + Math.ceil(letters / 2);
}

export function estimatePromptTokens(prompt: PromptSegments): number {
  return (
    estimateTextTokens(prompt.system) +
    estimateTextTokens(prompt.userParts.join('')) +
    2 * TEMPLATE_TOKENS_PER_MESSAGE +
    TEMPLATE_TOKENS_FOR_GENERATION_PROMPT
  );
}
