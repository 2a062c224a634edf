import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CRITIQUE_LIMITS,
  DEFAULT_SAMPLE_SUMMARY_LIMITS,
  critiqueWorstTokens,
  fitCritiqueLimits,
  fitSampleSummaryLimits,
  sampleSummaryWorstTokens,
  tokenCosts,
} from './outputLimits';
import { ScriptedBackend } from './reflectionTestData';

const byteLevel = { perChar: 4.5, perAsciiChar: 1 };
const bpe = { perChar: 1.2, perAsciiChar: 0.3 };

describe('output limits fitted to the token budget', () => {
  it('keeps the defaults when the budget holds the worst case', () => {
    expect(fitSampleSummaryLimits(4096, byteLevel)).toEqual(DEFAULT_SAMPLE_SUMMARY_LIMITS);
    expect(fitCritiqueLimits(8192, byteLevel, 15)).toEqual(DEFAULT_CRITIQUE_LIMITS);
    expect(fitCritiqueLimits(2048, bpe, 15)).toEqual(DEFAULT_CRITIQUE_LIMITS);
  });

  it.each([512, 768, 1024, 1536, 2048, 3000])('the worst case fits in %i tokens', (budget) => {
    for (const costs of [byteLevel, bpe]) {
      expect(sampleSummaryWorstTokens(fitSampleSummaryLimits(budget, costs), costs)).toBeLessThanOrEqual(budget);
      expect(critiqueWorstTokens(fitCritiqueLimits(budget, costs, 15), costs, 15)).toBeLessThanOrEqual(budget);
    }
  });

  it('shrinks operations before text, and grows with the budget', () => {
    const small = fitCritiqueLimits(1024, byteLevel, 15);
    const large = fitCritiqueLimits(2048, byteLevel, 15);
    expect(small.operations).toBeLessThan(DEFAULT_CRITIQUE_LIMITS.operations);
    expect(small.text).toBeGreaterThanOrEqual(40);
    expect(large.operations).toBeGreaterThanOrEqual(small.operations);
    expect(fitSampleSummaryLimits(1024, byteLevel).summary).toBeLessThan(fitSampleSummaryLimits(2048, byteLevel).summary);
  });

  it('measures the backend once', async () => {
    const backend = new ScriptedBackend([]);
    let counted = 0;
    const original = backend.countTextTokens.bind(backend);
    backend.countTextTokens = async (text: string) => {
      counted++;
      return original(text);
    };
    const a = await tokenCosts(backend);
    const b = await tokenCosts(backend);
    expect(a).toEqual(b);
    expect(counted).toBe(2);
    expect(a.perChar).toBeCloseTo(1.5, 6);
  });
});
