import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SAMPLE_SUMMARY_JSON_SCHEMA, SampleSummarySchema, buildSampleSummaryPrompt } from './sampleSummarizer';
import { buildCritiqueSchemas, critiqueKeySpace, toReflectionOperation } from './critiqueStage';
import { boundedText, grammarCharCount } from './boundedText';
import { parseStrictJson } from './generateStrictJson';
import { makeTicket } from './reflectionTestData';

/**
 * zod's JSON Schema, reduced to node-llama-cpp's subset so it can be compared with the
 * hand-written grammar schema: no $schema, anyOf read as oneOf, `type` dropped next to
 * const/enum (implied), and every object lists all its keys as required.
 */
function normalise(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalise);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === '$schema') continue;
    out[key === 'anyOf' ? 'oneOf' : key] = normalise(value);
  }
  if ('const' in out || 'enum' in out) delete out.type;
  if (out.required) out.required = [...(out.required as string[])].sort();
  return out;
}

function sortRequired(node: unknown): unknown {
  return normalise(JSON.parse(JSON.stringify(node)));
}

describe('SampleSummarizer schemas', () => {
  it('the hand-written grammar schema agrees with the zod schema', () => {
    expect(sortRequired(SAMPLE_SUMMARY_JSON_SCHEMA)).toEqual(normalise(z.toJSONSchema(SampleSummarySchema)));
  });

  it('the zod schema accepts what the grammar allows and nothing else', () => {
    expect(SampleSummarySchema.safeParse({ summary: '结论通过。', critique: '未核对端子。' }).success).toBe(true);
    expect(SampleSummarySchema.safeParse({ summary: '', critique: 'x' }).success).toBe(false);
    expect(SampleSummarySchema.safeParse({ summary: 'x'.repeat(201), critique: 'x' }).success).toBe(false);
    expect(SampleSummarySchema.safeParse({ summary: 'x', critique: 'x', extra: 1 }).success).toBe(false);
  });

  it('the prompt is one user block that forbids fences and copying', () => {
    const prompt = buildSampleSummaryPrompt({
      mission: 'BBU接地线检查',
      experiences: { G0: '检查接地线' },
      ticket: makeTicket('g1', 'fail'),
      label: 'fail',
      verdict: 'pass',
      reason: '接地线已连接',
      vote: { pass: 2, fail: 1, malformed: 0 },
      signals: { label_match: false, self_consistency: 0.67, candidate_agreement: false, confidence: 0.8, label_trust: 1 },
    });
    expect(prompt.system).toBe('');
    expect(prompt.userParts).toHaveLength(1);
    const text = prompt.userParts[0];
    expect(text).toContain('[G0]. 检查接地线');
    expect(text).toContain('不要 markdown 代码块');
    expect(text).toContain('不要照抄');
    expect(text).toContain('label_match=false');
  });
});

describe('critique schemas', () => {
  const space = critiqueKeySpace({ G0: 'a', G1: 'b', G3: 'c', S1: 'invariant' }, ['g1::fail', 'g2::pass']);

  it('derives the key space from the guidance (S keys read-only, G0 not removable)', () => {
    expect(space).toEqual({ editable: ['G0', 'G1', 'G3'], removable: ['G1', 'G3'], addKey: 'G4', evidence: ['g1::fail', 'g2::pass'] });
  });

  it('the hand-written grammar schema agrees with the zod schema', () => {
    const { schema, jsonSchema } = buildCritiqueSchemas(space);
    expect(sortRequired(jsonSchema)).toEqual(normalise(z.toJSONSchema(schema)));
  });

  it('accepts each operation kind and rejects what the grammar rules out', () => {
    const { schema } = buildCritiqueSchemas(space);
    const ok = {
      operations: [
        { op: 'add', key: 'G4', text: '新规则', rationale: '', evidence: ['g1::fail'] },
        { op: 'modify', key: 'G0', text: '改写', rationale: 'r', evidence: ['g2::pass'] },
        { op: 'remove', key: 'G3', rationale: '', evidence: ['g1::fail'] },
      ],
      uncertainty_note: null,
    };
    expect(schema.safeParse(ok).success).toBe(true);
    expect(schema.safeParse({ ...ok, operations: [{ op: 'merge', key: 'G0', text: 't', merge_from: ['G1'], rationale: '', evidence: ['g1::fail'] }] }).success).toBe(true);
    const bad = [
      { op: 'remove', key: 'G0', rationale: '', evidence: ['g1::fail'] },
      { op: 'modify', key: 'S1', text: 't', rationale: '', evidence: ['g1::fail'] },
      { op: 'add', key: 'G4', text: '', rationale: '', evidence: ['g1::fail'] },
      { op: 'add', key: 'G4', text: 't', rationale: '', evidence: [] },
      { op: 'add', key: 'G4', text: 't', rationale: '', evidence: ['other::pass'] },
      { op: 'merge', key: 'G1', text: 't', merge_from: [], rationale: '', evidence: ['g1::fail'] },
      { op: 'upsert', key: 'G1', text: 't', rationale: '', evidence: ['g1::fail'] },
    ];
    for (const operation of bad) expect(schema.safeParse({ operations: [operation], uncertainty_note: null }).success, JSON.stringify(operation)).toBe(false);
    expect(schema.safeParse({ operations: [], uncertainty_note: null }).success).toBe(false);
    expect(schema.safeParse({ operations: ok.operations, uncertainty_note: '' }).success).toBe(false);
  });

  it('converts model operations to stored ReflectionOperations', () => {
    expect(toReflectionOperation({ op: 'remove', key: 'G3', rationale: ' ', evidence: ['g1::fail'] })).toEqual({ op: 'remove', key: 'G3', evidence: ['g1::fail'] });
    expect(toReflectionOperation({ op: 'merge', key: 'G0', text: 't', merge_from: ['G1'], rationale: 'why', evidence: ['g1::fail'] })).toEqual({
      op: 'merge', key: 'G0', text: 't', merge_from: ['G1'], rationale: 'why', evidence: ['g1::fail'],
    });
  });
});

describe('strict JSON parsing', () => {
  const schema = z.object({ a: z.number() }).strict();
  it('accepts exactly one bare object', () => {
    expect(parseStrictJson(' {"a":1}\n', schema)).toEqual({ ok: true, value: { a: 1 } });
  });
  it.each([
    ['fenced', '```json\n{"a":1}\n```', /not a bare JSON object/],
    ['prose', 'Here: {"a":1}', /not a bare JSON object/],
    ['truncated', '{"a":', /not a bare JSON object/],
    ['broken', '{"a":1,}', /invalid JSON/],
    ['wrong type', '{"a":"1"}', /schema violation: a:/],
    ['extra key', '{"a":1,"b":2}', /schema violation/],
  ])('rejects %s output', (_name, text, message) => {
    const result = parseStrictJson(text, schema);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });
});

describe('grammarCharCount / boundedText', () => {
  it('counts code points and one per run of replacement characters', () => {
    expect(grammarCharCount('abc')).toBe(3);
    expect(grammarCharCount('通过')).toBe(2);
    expect(grammarCharCount('a😀b')).toBe(3);
    expect(grammarCharCount('a\uFFFD\uFFFD\uFFFDb\uFFFD')).toBe(4);
    expect(boundedText(1, 2).safeParse('😀😀').success).toBe(true);
    expect(boundedText(1, 2).safeParse('abc').success).toBe(false);
    expect(boundedText(1, 2).safeParse('').success).toBe(false);
  });
});
