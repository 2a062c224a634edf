import { describe, expect, it } from 'vitest';
import { bestPathSettings, estimatedSeconds, optimizedDecodeModes } from '../../bench/rollout/pathSettings';
import type { ThroughputSample } from '../../bench/rollout/ThroughputMeter';

const sample = (threads: number, prompt: number, batched: number, single: number): ThroughputSample => ({
  threads,
  promptTokensPerSecond: prompt,
  batchedDecodeTokensPerSecond: batched,
  singleDecodeTokensPerSecond: single,
});

// The rates of issue #22's run: 2 threads decode a batch fastest (201 against 130 tok/s), while one sequence
// decodes at 156 tok/s on 1 thread and 63 on 2; prompts run fastest on 2 threads.
const issueRates = [sample(1, 820, 130, 156), sample(2, 1450, 201, 63)];

describe('bestPathSettings', () => {
  it("chooses the naive path's settings from its own rates, not the optimized path's", () => {
    const optimized = bestPathSettings(issueRates, { modes: optimizedDecodeModes('auto') });
    const naive = bestPathSettings(issueRates, { modes: ['single'] });
    expect(optimized).toMatchObject({ promptThreads: 2, decodeThreads: 2, decodeMode: 'batched', decodeRate: 201 });
    expect(naive).toMatchObject({ promptThreads: 2, decodeThreads: 1, decodeMode: 'single', promptRate: 1450, decodeRate: 156, forced: false });
  });

  it('follows the rates: where one sequence decodes fastest on 2 threads, the naive path decodes on 2', () => {
    const rates = [sample(1, 820, 130, 156), sample(2, 1450, 201, 250)];
    expect(bestPathSettings(rates, { modes: ['single'] })).toMatchObject({ promptThreads: 2, decodeThreads: 2, decodeRate: 250 });
    // And the optimized path then decodes one candidate at a time too, as --batch-decode auto allows.
    expect(bestPathSettings(rates, { modes: optimizedDecodeModes('auto') })).toMatchObject({ decodeThreads: 2, decodeMode: 'single' });
  });

  it('its own settings make the naive path faster than the optimized path’s thread counts would', () => {
    const naive = bestPathSettings(issueRates, { modes: ['single'] });
    const work = { promptTokens: 200_000, generatedTokens: 7_680 };
    const own = estimatedSeconds(naive, work);
    const onOptimizedThreads = estimatedSeconds({ promptRate: 1450, decodeRate: 63 }, work);
    expect(own).toBeLessThan(onOptimizedThreads);
    expect(own).toBeCloseTo(200_000 / 1450 + 7_680 / 156, 6);
  });

  it('puts both phases on a forced thread count and still picks the mode there', () => {
    expect(bestPathSettings(issueRates, { modes: optimizedDecodeModes('auto'), forcedThreads: 1 })).toMatchObject({
      promptThreads: 1,
      decodeThreads: 1,
      decodeMode: 'single',
      forced: true,
    });
    expect(() => bestPathSettings(issueRates, { modes: ['single'], forcedThreads: 3 })).toThrow(/no rates measured at 3/);
  });

  it('keeps a forced decode mode and breaks ties towards fewer threads', () => {
    expect(bestPathSettings(issueRates, { modes: optimizedDecodeModes('off') })).toMatchObject({ decodeThreads: 1, decodeMode: 'single' });
    expect(bestPathSettings(issueRates, { modes: optimizedDecodeModes('on') })).toMatchObject({ decodeThreads: 2, decodeMode: 'batched' });
    const tied = [sample(1, 1000, 200, 200), sample(2, 1000, 200, 200)];
    expect(bestPathSettings(tied, { modes: optimizedDecodeModes('auto') })).toMatchObject({ promptThreads: 1, decodeThreads: 1, decodeMode: 'batched' });
  });
});
