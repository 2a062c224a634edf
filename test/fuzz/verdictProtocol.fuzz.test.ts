import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVerdictResponse, renderVerdict, type VerdictFormat } from '../../src/shared/verdictProtocol';
import { RUNS, countCase, printCounts, withoutDiskWrites } from './fuzzSupport';

/** The rollout verdict parser on random and mutated model output (issue §3). */
const formats: VerdictFormat[] = ['three_line', 'two_line'];

const verdictLine = fc.constantFrom('Verdict: 通过', 'Verdict: 不通过', '判定：通过', '结论: fail', 'verdict:pass', 'Verdict: 可能通过', 'Verdict:');
const reasonLine = fc.oneof(fc.string().map((s) => `Reason: ${s}`), fc.constantFrom('理由：接地线松动', 'Reason:', '原因: '));
const confidenceLine = fc.oneof(
  fc.double({ noNaN: false }).map((d) => `Confidence: ${d}`),
  fc.constantFrom('Confidence: 0.8', '置信度：85%', 'Confidence: 1.5', 'Confidence: -0', 'Confidence: 1e-3', 'Confidence: 100%', 'Confidence: ０.８'),
);
const noise = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('\r\n', '\n\n', '```', '\u0000', '\uFEFF'));
/** Protocol-shaped text with lines shuffled, dropped, duplicated and garbage interleaved. */
const protocolish = fc.array(fc.oneof(verdictLine, reasonLine, confidenceLine, noise), { maxLength: 8 }).map((lines) => lines.join('\n'));

function checkResult(text: string, format: VerdictFormat): void {
  const result = parseVerdictResponse(text, format);
  if (result.ok) {
    expect(['pass', 'fail']).toContain(result.value.verdict);
    expect(result.value.reason.length).toBeGreaterThan(0);
    if (format === 'two_line') expect(result.value.confidence).toBeNull();
    else expect(result.value.confidence! >= 0 && result.value.confidence! <= 1).toBe(true);
  } else {
    expect(typeof result.error).toBe('string');
    expect(result.error.length).toBeGreaterThan(0);
  }
}

afterAll(() => printCounts('verdictProtocol'));

describe('verdict parser fuzz', () => {
  it('never throws on arbitrary or protocol-shaped text, and gives a parsed verdict or an error', async () => {
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 400 }), protocolish), fc.constantFrom(...formats), (text, format) => {
          countCase('parseVerdictResponse');
          checkResult(text, format);
        }),
        { numRuns: RUNS * 3, seed: 101 },
      );
      // Non-strings from a misbehaving backend.
      for (const value of [undefined, null, 42, {}, [], Symbol.iterator]) {
        countCase('parseVerdictResponse');
        expect(parseVerdictResponse(value as unknown as string).ok).toBe(false);
      }
    });
    expect(writes).toEqual([]);
  });

  it('parses back what renderVerdict writes (round trip), for any reason without newlines', async () => {
    const reason = fc.string({ minLength: 1 }).filter((s) => !/[\r\n\u2028\u2029\u0085]/.test(s) && s.trim() === s && s.length > 0);
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(fc.constantFrom('pass' as const, 'fail' as const), reason, fc.integer({ min: 0, max: 100 }), fc.constantFrom(...formats), (verdict, why, pct, format) => {
          countCase('renderVerdict round trip');
          const confidence = format === 'two_line' ? null : pct / 100;
          const text = renderVerdict({ verdict, reason: why, confidence }, format);
          const parsed = parseVerdictResponse(text, format);
          expect(parsed.ok).toBe(true);
          if (parsed.ok) {
            expect(parsed.value.verdict).toBe(verdict);
            expect(parsed.value.reason).toBe(why);
            if (confidence !== null) expect(parsed.value.confidence).toBeCloseTo(confidence, 2);
          }
        }),
        { numRuns: RUNS, seed: 102 },
      );
    });
    expect(writes).toEqual([]);
  });
});
