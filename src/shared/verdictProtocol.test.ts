import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseVerdictResponse, renderVerdict, verdictGrammar } from './verdictProtocol';
import { normalizeVerdict, ticketKey } from './verdict';

describe('normalizeVerdict', () => {
  it.each([
    ['pass', 'pass'],
    ['PASS', 'pass'],
    ['通过', 'pass'],
    [' 通过。', 'pass'],
    ['fail', 'fail'],
    ['Fail', 'fail'],
    ['不通过', 'fail'],
    ['不通过!', 'fail'],
    ['maybe', null],
    ['', null],
    [42, null],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeVerdict(raw)).toBe(expected);
  });

  it('builds ticket keys as group_id::label', () => {
    expect(ticketKey('QC-1', 'fail')).toBe('QC-1::fail');
  });
});

describe('parseVerdictResponse', () => {
  it('parses the three-line protocol with Chinese verdicts', () => {
    const result = parseVerdictResponse('Verdict: 不通过\nReason: 缺少接地线\nConfidence: 0.83');
    expect(result).toEqual({ ok: true, value: { verdict: 'fail', reason: '缺少接地线', confidence: 0.83 } });
  });

  it('accepts English verdicts, full-width colons and CRLF', () => {
    const result = parseVerdictResponse('verdict：pass\r\nreason：all good\r\nconfidence：90%');
    expect(result).toEqual({ ok: true, value: { verdict: 'pass', reason: 'all good', confidence: 0.9 } });
  });

  it('two-line format needs no confidence', () => {
    expect(parseVerdictResponse('Verdict: 通过\nReason: 齐全', 'two_line')).toEqual({ ok: true, value: { verdict: 'pass', reason: '齐全', confidence: null } });
  });

  it.each([
    ['', 'empty response'],
    ['Reason: x\nConfidence: 0.5', 'missing Verdict line'],
    ['Verdict: 也许\nReason: x\nConfidence: 0.5', 'unknown verdict'],
    ['Verdict: 通过\nConfidence: 0.5', 'missing Reason line'],
    ['Verdict: 通过\nReason: ok', 'missing Confidence line'],
    ['Verdict: 通过\nReason: ok\nConfidence: 1.7', 'not a number in [0, 1]'],
  ])('rejects %j', (text, message) => {
    const result = parseVerdictResponse(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });

  it('keeps the partial verdict when later lines are missing', () => {
    const result = parseVerdictResponse('Verdict: 不通过\nReason: 螺丝松动');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.partial).toEqual({ verdict: 'fail', reason: '螺丝松动' });
  });

  it('round-trips renderVerdict', () => {
    fc.assert(
      fc.property(fc.constantFrom('pass' as const, 'fail' as const), fc.string({ minLength: 1 }).filter((s) => !/[\r\n]/.test(s) && s.trim() === s && s.length > 0), fc.integer({ min: 0, max: 100 }), (verdict, reason, pct) => {
        const value = { verdict, reason, confidence: pct / 100 };
        const parsed = parseVerdictResponse(renderVerdict(value));
        expect(parsed).toEqual({ ok: true, value });
      }),
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('three_line' as const, 'two_line' as const), (text, format) => {
        const result = parseVerdictResponse(text, format);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('verdictGrammar', () => {
  it('bounds the reason and ends with the confidence rule only in three_line', () => {
    const three = verdictGrammar('three_line', 40);
    expect(three).toContain('[^\\n\\r]{0,39}');
    expect(three).toContain('confidence ::=');
    expect(verdictGrammar('two_line')).not.toContain('Confidence');
  });
});
