import { describe, expect, it } from 'vitest';
import { summarizeSample, type SampleSummaryInput } from './sampleSummarizer';
import { reflectionDecode } from './reflectionDecode';
import { makeTicket } from './reflectionTestData';
import type { Completion, GenerateRequest, LlmBackend } from '../../llm/LlmBackend';

function backendReplying(text: string, finishReason: Completion['finishReason'] = 'stop'): LlmBackend & { requests: GenerateRequest[] } {
  const requests: GenerateRequest[] = [];
  return {
    info: { backend: 'llama-cpp', modelName: 'scripted', modelPath: null, contextSize: 1024, gpu: false },
    requests,
    generate: async (request) => {
      requests.push(request);
      return [{ text, finishReason, promptTokens: 10, generatedTokens: 5 }];
    },
    countPromptTokens: async () => 10,
    countTextTokens: async (t) => t.length,
    tokenMeter: () => ({ promptEvaluated: 0, promptUnique: 0, promptTotal: 0, generated: 0 }),
    close: async () => {},
  };
}

const sample: SampleSummaryInput = {
  mission: 'BBU接地线检查',
  experiences: { G0: '检查接地线' },
  ticket: makeTicket('g1', 'fail'),
  label: 'fail',
  verdict: 'pass',
  reason: '接地线已连接',
  vote: { pass: 2, fail: 1, malformed: 0 },
  signals: { label_match: false, self_consistency: 0.67, candidate_agreement: false, confidence: 0.8, label_trust: 1 },
};
const decode = reflectionDecode(17, 256, 'sample_summary', 0, 'g1::fail');

describe('summarizeSample', () => {
  it('returns the summary and critique of a valid constrained reply', async () => {
    const backend = backendReplying('{"summary":"判定通过，依据是接地线已连接。","critique":"忽略了端子锈蚀。"}');
    const result = await summarizeSample({ backend, sample, decode });
    expect(result).toEqual({ summary: '判定通过，依据是接地线已连接。', critique: '忽略了端子锈蚀。', error: null });
    const [request] = backend.requests;
    expect(request.constraint).toMatchObject({ kind: 'json_schema' });
    expect(request.candidates).toEqual([decode]);
    expect(request.stop).toEqual(['```']);
  });

  it.each([
    ['prose', 'The summary is: ok', 'stop', /not a bare JSON object/],
    ['truncated', '{"summary":"判定', 'length', /truncated/],
    ['missing critique', '{"summary":"判定通过。"}', 'stop', /schema violation/],
  ] as const)('a %s reply is a warning with nulls, not a throw', async (_name, text, finish, message) => {
    const result = await summarizeSample({ backend: backendReplying(text, finish), sample, decode });
    expect(result.summary).toBeNull();
    expect(result.critique).toBeNull();
    expect(result.error).toMatch(message);
  });

  it('is deterministic in its decode params', () => {
    expect(reflectionDecode(17, 256, 'a', 1)).toEqual(reflectionDecode(17, 256, 'a', 1));
    expect(reflectionDecode(17, 256, 'a', 1).seed).not.toBe(reflectionDecode(17, 256, 'a', 2).seed);
    expect(reflectionDecode(17, 256, 'a', 1).temperature).toBe(0);
  });
});
