import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStageALine } from '../../src/main/io/ingestStageA';
import { parseStageASummary } from '../../src/shared/stageASummary';
import { ERROR_CODES } from '../../src/shared/errors';
import { RUNS, countCase, printCounts, withoutDiskWrites } from './fuzzSupport';

/**
 * Stage-A ingest's per-line validation (parseStageALine, the path every line of
 * ingestStageA takes) and the summary parser, on random and mutated lines in both
 * summary formats (issue §3).
 */
const MISSION = 'BBU接地线检查';

const textSummary = fc
  .array(fc.tuple(fc.constantFrom('接地线', 'BBU设备', '标签', '螺丝', '无关图片'), fc.array(fc.constantFrom('已连接', '未紧固', '华为', '需复核', '备注:光线较暗'), { maxLength: 3 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 4 })
  .map((entries) => entries.map(([c, attrs, n]) => `${c}/${attrs.join(',')}×${n}`).join('，'));
const jsonSummary = fc
  .record({
    统计: fc.oneof(
      fc.array(fc.record({ 类别: fc.constantFrom('接地线', 'BBU设备', ''), 属性: fc.oneof(fc.array(fc.string()), fc.string()), 数量: fc.oneof(fc.integer({ min: -2, max: 9 }), fc.constantFrom('3', 'x')) }), { maxLength: 3 }),
      fc.dictionary(fc.string(), fc.integer()),
    ),
    备注: fc.oneof(fc.array(fc.string()), fc.string()),
    需复核: fc.boolean(),
  }, { requiredKeys: [] })
  .map((value) => JSON.stringify(value));
const summary = fc.oneof(textSummary, jsonSummary, fc.constant('无关图片'), fc.string(), fc.constantFrom('', ' ', '\t\u3000'));
const record = fc.record(
  {
    group_id: fc.oneof(fc.string(), fc.constant('QC-0001')),
    mission: fc.oneof(fc.constant(MISSION), fc.constant(` ${MISSION} `), fc.string()),
    label: fc.oneof(fc.constantFrom('pass', 'fail', '通过', '不通过', null, 'maybe'), fc.integer()),
    images: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.string()),
    per_image: fc.oneof(
      fc.dictionary(fc.integer({ min: 1, max: 12 }).map((n) => `image_${n}`), summary, { minKeys: 1, maxKeys: 4 }),
      fc.dictionary(fc.string(), fc.anything(), { maxKeys: 3 }),
    ),
  },
  { requiredKeys: [] },
);

/** A valid-looking line, then bytes flipped, cut or spliced (a torn or hand-edited file). */
const mutatedLine = fc.tuple(record.map((r) => JSON.stringify(r)), fc.nat(), fc.nat(), fc.constantFrom('cut', 'flip', 'splice', 'none')).map(([text, a, b, how]) => {
  if (text.length === 0 || how === 'none') return text;
  const i = a % text.length;
  if (how === 'cut') return text.slice(0, i);
  if (how === 'flip') return text.slice(0, i) + String.fromCharCode((text.charCodeAt(i) + 1 + (b % 50)) % 0xffff) + text.slice(i + 1);
  return text.slice(0, i) + text.slice(i + (b % 20));
});

afterAll(() => printCounts('stageAIngest'));

describe('Stage-A line validation fuzz', () => {
  it('every line gives a record for the mission or an issue naming file, line and a known code', async () => {
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(fc.oneof(record.map((r) => JSON.stringify(r)), mutatedLine, fc.string(), fc.json()), fc.integer({ min: 1, max: 1_000_000 }), (text, line) => {
          countCase('parseStageALine');
          const result = parseStageALine(text, 'fuzz.jsonl', line, MISSION);
          if (result.ok) {
            expect(result.record.mission.trim()).toBe(MISSION);
            expect(result.record.group_id.trim().length).toBeGreaterThan(0);
            expect(Object.keys(result.record.per_image).length).toBeGreaterThan(0);
            for (const [key, value] of Object.entries(result.record.per_image)) {
              expect(key).toMatch(/^image_\d+$/);
              expect(typeof value).toBe('string');
              expect((value as string).trim()).not.toBe('');
            }
          } else {
            expect(ERROR_CODES).toContain(result.issue.code);
            expect(result.issue.code.startsWith('INPUT_')).toBe(true);
            expect(result.issue.file).toBe('fuzz.jsonl');
            expect(result.issue.line).toBe(line);
            expect(result.issue.message.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: RUNS * 3, seed: 201 },
      );
    });
    expect(writes).toEqual([]);
  });

  it('the summary parser classifies any text (text / json / irrelevant / unknown) and never throws', async () => {
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(fc.oneof(summary, fc.string({ unit: 'binary' }), jsonSummary.map((s) => s.slice(0, Math.max(1, s.length - 3)))), (text) => {
          countCase('parseStageASummary');
          const parsed = parseStageASummary(text);
          expect(['text', 'json', 'irrelevant', 'unknown']).toContain(parsed.format);
          expect(parsed.raw).toBe(text);
          for (const entry of parsed.entries) expect(Number.isInteger(entry.count) && entry.count >= 0).toBe(true);
        }),
        { numRuns: RUNS * 2, seed: 202 },
      );
    });
    expect(writes).toEqual([]);
  });
});
