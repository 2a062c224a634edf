import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { applyOperations } from '../../src/shared/guidance/applyOperations';
import { compactExperiences } from '../../src/shared/guidance/compactExperiences';
import { planFingerprint } from '../../src/shared/guidance/planFingerprint';
import { isInvariantKey } from '../../src/shared/guidance/sortExperienceKeys';
import { validateExperienceText } from '../../src/shared/guidance/validateExperienceText';
import { GuidanceFileSchema, GuidanceStateSchema } from '../../src/shared/schemas/guidance';
import { ReflectionOperationSchema, type ReflectionOperation } from '../../src/shared/schemas/records';
import { isIso8601Timestamp } from '../../src/shared/schemas/timestamp';
import { RUNS, countCase, expectTypedError, printCounts, withoutDiskWrites } from './fuzzSupport';

/** The guidance schema and the plan operations (applyOperations → compactExperiences) on random plans (issue §3). */
const key = fc.oneof(fc.integer({ min: 0, max: 8 }).map((n) => `G${n}`), fc.integer({ min: 1, max: 2 }).map((n) => `S${n}`), fc.constantFrom('NEW', '', 'g1', 'G-1', 'G01'));
const ruleText = fc.oneof(
  fc.constantFrom('接地线端子必须紧固', '  接地线端子必须紧固  ', '防水胶带必须完整包裹接头', '接地线×2，标签/可识别', 'image_3 显示螺丝松动', '', '   ', '{"统计":[]}'),
  fc.string({ maxLength: 60 }),
);
const operation: fc.Arbitrary<ReflectionOperation> = fc.record(
  {
    op: fc.constantFrom('add', 'modify', 'merge', 'remove'),
    key,
    text: ruleText,
    rationale: fc.string({ maxLength: 20 }),
    evidence: fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
    merge_from: fc.array(key, { maxLength: 3 }),
  },
  { requiredKeys: ['op', 'key', 'evidence'] },
) as fc.Arbitrary<ReflectionOperation>;
const experiences = fc
  .dictionary(key.filter((k) => /^(G|S)\d+$/.test(k)), fc.constantFrom('检查接地线是否连接', '接地线应走线整齐', '只依据摘要判断', '防水胶带完整'), { minKeys: 0, maxKeys: 6 })
  .map((e): Record<string, string> => ({ G0: '任务：检查BBU接地线', ...e }));

afterAll(() => printCounts('guidanceOperations'));

describe('guidance operations fuzz', () => {
  it('a random plan is applied whole (valid, G0 kept, invariants untouched, compacted) or rejected with GUIDANCE_REJECTED_OPERATION', async () => {
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(experiences, fc.array(operation, { maxLength: 6 }), (before, ops) => {
          countCase('applyOperations+compactExperiences');
          let applied;
          try {
            applied = applyOperations({ experiences: before, metadata: {} }, ops, { reflection_id: 'refl-fuzz', updated_at: '2026-01-01T00:00:00.000Z' });
          } catch (error) {
            expect(expectTypedError(error).code).toBe('GUIDANCE_REJECTED_OPERATION');
            expect(error instanceof Error && (error as { location?: { field?: string } }).location?.field).toMatch(/^operations/);
            return;
          }
          expect('G0' in applied.experiences).toBe(true);
          for (const k of Object.keys(before)) if (isInvariantKey(k)) expect(applied.experiences[k]).toBe(before[k]);
          for (const [k, text] of Object.entries(applied.experiences)) {
            if (before[k] !== text && !isInvariantKey(k)) expect(validateExperienceText(k, text)).toBeNull();
          }
          const compacted = compactExperiences(applied);
          expect('G0' in compacted.experiences).toBe(true);
          const state = GuidanceStateSchema.safeParse({ step: 1, updated_at: '2026-01-01T00:00:00.000Z', ...compacted });
          expect(state.success).toBe(true);
          for (const [from, to] of Object.entries(compacted.keyMap)) {
            expect(from in applied.experiences).toBe(true);
            expect(to in compacted.experiences).toBe(true);
          }
          // Compaction is idempotent: a replayed plan changes nothing more.
          expect(compactExperiences(compacted).experiences).toEqual(compacted.experiences);
          expect(planFingerprint(ops, 'refl-fuzz')).toBe(planFingerprint(structuredClone(ops), 'refl-fuzz'));
        }),
        { numRuns: RUNS * 2, seed: 301 },
      );
    });
    expect(writes).toEqual([]);
  });

  /** Real ISO stamps, near misses (impossible dates, no zone digits, prose) and anything. */
  const timestamp = fc.oneof(
    fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom('2026-02-29T00:00:00Z', '2024-02-29', '2026-13-01T00:00Z', '2026-01-01T25:00:00Z', '2026-01-01 00:00:00', 'last tuesday', '1735689600', '2026-01-01T00:00:00+0800', '2026-01-01T00:00:00+08', ''),
    fc.string(),
  );

  it('the guidance file and operation schemas accept or reject any JSON without throwing', async () => {
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue(), fc.record({ m: fc.record({ step: fc.oneof(fc.integer(), fc.double()), updated_at: timestamp, experiences: fc.dictionary(fc.string(), fc.string()), metadata: fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom('G0', 'G1'), fc.record({ updated_at: timestamp }))) }, { requiredKeys: [] }) }), operation), (value) => {
          countCase('GuidanceFileSchema/ReflectionOperationSchema');
          const file = GuidanceFileSchema.safeParse(value);
          if (file.success) {
            for (const state of Object.values(file.data)) {
              expect(Number.isInteger(state.step) && state.step >= 0).toBe(true);
              expect(Object.keys(state.experiences).length).toBeGreaterThan(0);
              for (const k of Object.keys(state.experiences)) expect(k).toMatch(/^(G|S)\d+$/);
              // The spec's updated_at: iso8601, for the state and every rule's metadata.
              for (const stamp of [state.updated_at, ...Object.values(state.metadata).map((meta) => meta.updated_at)]) {
                expect(isIso8601Timestamp(stamp)).toBe(true);
                expect(Number.isNaN(Date.parse(stamp.replace(/T24:00(:00)?/, 'T23:59:59').replace(/:60(?=[.,Z+-]|$)/, ':59')))).toBe(false);
              }
            }
          } else expect(file.error.issues.length).toBeGreaterThan(0);
          ReflectionOperationSchema.safeParse(value);
        }),
        { numRuns: RUNS * 2, seed: 302 },
      );
    });
    expect(writes).toEqual([]);
  });
});
