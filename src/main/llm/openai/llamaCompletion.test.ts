import { describe, expect, it } from 'vitest';
import { llamaCompletionBody, parseLlamaCompletion } from './llamaCompletion';
import { MalformedChatResponse } from './parseChatResponse';

const planned = { candidateIndices: [0], n: 1, seed: 9, temperature: 0.7, top_p: 0.9, max_tokens: 64 };

describe('llamaCompletionBody', () => {
  it('carries the rendered prompt, sampling fields and the native constraint field', () => {
    expect(llamaCompletionBody(planned, 'P', { kind: 'json_schema', schema: { type: 'object' } }, 'auto', ['\n\n'])).toEqual({
      prompt: 'P',
      n_predict: 64,
      seed: 9,
      temperature: 0.7,
      top_p: 0.9,
      stream: false,
      stop: ['\n\n'],
      json_schema: { type: 'object' },
    });
    expect(llamaCompletionBody(planned, 'P', { kind: 'gbnf', grammar: 'root ::= "a"' }, 'vllm', undefined)).toMatchObject({ grammar: 'root ::= "a"' });
    expect(llamaCompletionBody(planned, 'P', { kind: 'gbnf', grammar: 'root ::= "a"' }, 'none', [])).not.toHaveProperty('grammar');
  });
});

describe('parseLlamaCompletion', () => {
  it('reads the text, the stop type and the cache accounting', () => {
    const parsed = parseLlamaCompletion(
      JSON.stringify({ content: '{"a":1}', stop_type: 'eos', tokens_evaluated: 40, tokens_predicted: 7, timings: { prompt_n: 6, cache_n: 34, predicted_n: 7 } }),
    );
    expect(parsed).toEqual({ text: '{"a":1}', finishReason: 'stop', usage: { promptTokens: 40, cachedTokens: 34, completionTokens: 7 } });
  });

  it('maps limit to length and an unknown stop to error', () => {
    expect(parseLlamaCompletion(JSON.stringify({ content: 'x', stop_type: 'limit' })).finishReason).toBe('length');
    expect(parseLlamaCompletion(JSON.stringify({ content: 'x', stop_type: 'word' })).finishReason).toBe('stop');
    expect(parseLlamaCompletion(JSON.stringify({ content: 'x', stop_type: 'none' })).finishReason).toBe('error');
    expect(parseLlamaCompletion(JSON.stringify({ content: 'x' })).usage).toBeNull();
  });

  it('rejects a body that is not a completion', () => {
    expect(() => parseLlamaCompletion('<html>')).toThrow(MalformedChatResponse);
    expect(() => parseLlamaCompletion(JSON.stringify({ error: { code: 500 } }))).toThrow(/content/);
  });
});
