import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { generateStrictJson, parseStrictJson } from '../../src/main/engine/reflection/generateStrictJson';
import { buildCritiqueSchemas, critiqueKeySpace } from '../../src/main/engine/reflection/critiqueStage';
import { SAMPLE_SUMMARY_JSON_SCHEMA, SampleSummarySchema } from '../../src/main/engine/reflection/sampleSummarizer';
import {
  BatchUpdateArtifactSchema,
  CritiqueArtifactSchema,
  GateArtifactSchema,
  HoldoutBaselineArtifactSchema,
  SummaryArtifactSchema,
} from '../../src/main/engine/reflection/reflectionArtifacts';
import { ReflectionLogRecordSchema } from '../../src/shared/schemas/records';
import type { Completion, LlmBackend } from '../../src/main/llm/LlmBackend';
import { RUNS, countCase, expectTypedError, printCounts, withoutDiskWrites } from './fuzzSupport';

/** Reflection JSON: the strict stage parser, one model call through generateStrictJson, and the cached artifact schemas (issue §3). */
const space = critiqueKeySpace({ G0: '任务：检查BBU接地线', G1: '接地线应走线整齐', S1: '只依据摘要判断' }, ['g1::fail', 'g2::pass']);
const critique = buildCritiqueSchemas(space);
const validCritique = JSON.stringify({ operations: [{ op: 'add', key: space.addKey, text: '接地线端子必须紧固', rationale: '误判', evidence: ['g1::fail'] }], uncertainty_note: null });
const validSummary = JSON.stringify({ summary: '选中候选判定通过', critique: '未核对端子' });

/** Valid outputs with a byte cut, a character changed, fences or prose around them. */
const mutated = fc.tuple(fc.constantFrom(validCritique, validSummary), fc.nat(), fc.nat(), fc.constantFrom('cut', 'flip', 'fence', 'prose', 'dup', 'none')).map(([text, a, b, how]) => {
  const i = a % text.length;
  switch (how) {
    case 'cut': return text.slice(0, i);
    case 'flip': return text.slice(0, i) + String.fromCharCode(32 + (b % 95)) + text.slice(i + 1);
    case 'fence': return '```json\n' + text + '\n```';
    case 'prose': return `Here is the JSON: ${text}`;
    case 'dup': return text + text;
    default: return text;
  }
});
const output = fc.oneof(mutated, fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ operations: v, uncertainty_note: null })));

function backendReturning(reply: Completion | Error): LlmBackend {
  return {
    info: { backend: 'llama-cpp', modelName: 'fuzz', modelPath: null, contextSize: 4096, gpu: false },
    async generate() {
      if (reply instanceof Error) throw reply;
      return [reply];
    },
    async countPromptTokens() { return 1; },
    async countTextTokens(text: string) { return text.length; },
    tokenMeter() { return { promptEvaluated: 0, promptUnique: 0, promptTotal: 0, generated: 0 }; },
    async close() {},
  };
}

afterAll(() => printCounts('reflectionJson'));

describe('reflection JSON fuzz', () => {
  it('parseStrictJson gives a schema-valid value or an error message for any text', async () => {
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(output, fc.boolean(), (text, useCritique) => {
          countCase('parseStrictJson');
          const result = useCritique ? parseStrictJson(text, critique.schema) : parseStrictJson(text, SampleSummarySchema);
          if (result.ok) {
            const again = (useCritique ? critique.schema : SampleSummarySchema).safeParse(JSON.parse(text.trim()));
            expect(again.success).toBe(true);
          } else expect(result.error.length).toBeGreaterThan(0);
        }),
        { numRuns: RUNS * 2, seed: 401 },
      );
    });
    expect(writes).toEqual([]);
  });

  it('generateStrictJson turns any completion or backend failure into ok / failure (CANCELLED is the only throw)', async () => {
    const finish = fc.constantFrom<Completion['finishReason']>('stop', 'length', 'abort', 'error');
    const reply = fc.oneof(
      fc.record({ text: output, finishReason: finish, promptTokens: fc.nat(), generatedTokens: fc.nat() }),
      fc.string().map((m) => new Error(m)),
    );
    const { writes } = await withoutDiskWrites(() =>
      fc.assert(
        fc.asyncProperty(reply, fc.boolean(), async (r, useCritique) => {
          countCase('generateStrictJson');
          try {
            const result = await generateStrictJson({
              backend: backendReturning(r as Completion | Error),
              prompt: { system: 's', userParts: ['u'] },
              jsonSchema: useCritique ? critique.jsonSchema : SAMPLE_SUMMARY_JSON_SCHEMA,
              schema: (useCritique ? critique.schema : SampleSummarySchema) as never,
              decode: { temperature: 0, top_p: 1, seed: 1, max_new_tokens: 64, prompt_variant: 'default' },
            });
            if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
            else expect((r as Completion).finishReason).toBe('stop');
          } catch (error) {
            expect(expectTypedError(error).code).toBe('CANCELLED');
            expect((r as Completion).finishReason).toBe('abort');
          }
        }),
        { numRuns: RUNS, seed: 402 },
      ),
    );
    expect(writes).toEqual([]);
  });

  it('the cached artifact and log schemas accept or reject any JSON without throwing', async () => {
    const schemas = [SummaryArtifactSchema, CritiqueArtifactSchema, BatchUpdateArtifactSchema, GateArtifactSchema, HoldoutBaselineArtifactSchema, ReflectionLogRecordSchema];
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue(), fc.record({ stage: fc.constantFrom('summary', 'critique', 'batch_update', 'gate', 'holdout_baseline'), schema_version: fc.constantFrom(1, 2), groups: fc.jsonValue(), plan: fc.jsonValue(), rows: fc.jsonValue() }, { requiredKeys: [] })), (value) => {
          for (const schema of schemas) {
            countCase('artifact schemas');
            const parsed = schema.safeParse(value);
            if (!parsed.success) expect(parsed.error.issues.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: RUNS, seed: 403 },
      );
    });
    expect(writes).toEqual([]);
  });
});
