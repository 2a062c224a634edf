import { describe, expect, it } from 'vitest';
import { estimatePromptTokens, estimateTextTokens, TEMPLATE_TOKENS_FOR_GENERATION_PROMPT, TEMPLATE_TOKENS_PER_MESSAGE } from './estimateTokens';

describe('estimateTextTokens', () => {
  it('counts ASCII letters at half a token and every other code point as one', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('abcd')).toBe(2);
    expect(estimateTextTokens('abc')).toBe(2);
    expect(estimateTextTokens('2025')).toBe(4);
    expect(estimateTextTokens('接地线')).toBe(3);
    expect(estimateTextTokens('Verdict: 通过')).toBe(4 + 2 + 2);
    // An astral-plane code point is one, not two UTF-16 units.
    expect(estimateTextTokens('😀')).toBe(1);
  });
  it('adds chat-template overhead for a prompt', () => {
    expect(estimatePromptTokens({ system: 'ab', userParts: ['接', '地'] })).toBe(1 + 2 + 2 * TEMPLATE_TOKENS_PER_MESSAGE + TEMPLATE_TOKENS_FOR_GENERATION_PROMPT);
  });
});
