import { describe, expect, it } from 'vitest';
import { MalformedChatResponse, parseChatResponse } from './parseChatResponse';
import { apportionTokens } from '../OpenAiBackend';

const choice = (index: number, content: unknown, finish_reason: unknown = 'stop') => ({ index, message: { role: 'assistant', content }, finish_reason });

describe('parseChatResponse', () => {
  it('orders choices by index and reads usage, including cached tokens', () => {
    const body = JSON.stringify({
      choices: [choice(1, 'b', 'length'), choice(0, 'a')],
      usage: { prompt_tokens: 50, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 40 } },
    });
    expect(parseChatResponse(body, 2)).toEqual({
      choices: [
        { text: 'a', finishReason: 'stop' },
        { text: 'b', finishReason: 'length' },
      ],
      usage: { promptTokens: 50, completionTokens: 9, cachedTokens: 40 },
    });
  });

  it("reads llama.cpp's timings.cache_n when usage has no cached_tokens", () => {
    const body = JSON.stringify({ choices: [choice(0, 'a')], usage: { prompt_tokens: 50, completion_tokens: 1 }, timings: { cache_n: 30, prompt_n: 20 } });
    expect(parseChatResponse(body, 1).usage?.cachedTokens).toBe(30);
  });

  it('maps unknown or null finish reasons to error', () => {
    const body = JSON.stringify({ choices: [choice(0, 'a', null), choice(1, 'b', 'content_filter')] });
    expect(parseChatResponse(body, 2).choices.map((c) => c.finishReason)).toEqual(['error', 'error']);
  });

  it.each([
    ['not JSON', '<html>oops</html>', 1, 'not_json'],
    ['no choices', '{"object":"error"}', 1, 'missing_choices'],
    ['null content', JSON.stringify({ choices: [choice(0, null)] }), 1, 'missing_content'],
    ['too few choices', JSON.stringify({ choices: [choice(0, 'a')] }), 2, 'wrong_n'],
    ['index out of range', JSON.stringify({ choices: [choice(0, 'a'), choice(5, 'b')] }), 2, 'wrong_n'],
  ])('rejects %s', (_name, body, n, issue) => {
    let caught: unknown;
    try {
      parseChatResponse(body, n);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MalformedChatResponse);
    expect((caught as MalformedChatResponse).issue).toBe(issue);
  });
});

describe('apportionTokens', () => {
  it('keeps the exact total and splits by text length', () => {
    expect(apportionTokens(7, ['only'])).toEqual([7]);
    const split = apportionTokens(30, ['aa', 'aaaa', '接地线接地线']);
    expect(split.reduce((a, b) => a + b, 0)).toBe(30);
    expect(split[2]).toBeGreaterThan(split[0]);
  });
});
