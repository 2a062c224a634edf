import { describe, expect, it } from 'vitest';
import { DistillRecordSchema, type SelectionRecord } from '../schemas/records';
import { parseVerdictResponse } from '../verdictProtocol';
import { buildDistillRecords } from './buildDistillRecords';
import { assertNoReflectionText, collectReflectionTexts } from './assertNoReflectionText';
import { selection } from './testFixtures';
import { StageBError } from '../errors';

const promptFor = (groupId: string, row: SelectionRecord) => ({
  system: `你是质检员。[G0]. 检查接地线 (step ${row.guidance_step})`,
  user: `工单 ${groupId}: image_1 接地线×1`,
});

const reflective = {
  summary: '候选结论为通过，认为接地线连接完整可靠。',
  critique: '忽略了标签缺失这一常见失败模式，需要补充。',
};

describe('buildDistillRecords', () => {
  const selections = [
    selection({ group_id: 'g1', epoch: 1, label: 'pass', verdict: 'pass', ...reflective }),
    selection({ group_id: 'g2', epoch: 1, label: 'fail', verdict: 'fail', reason: '缺少接地线标签', batch_index: 1, ...reflective }),
    selection({ group_id: 'g3', epoch: 1, label: 'fail', verdict: null, reason: null, selected_candidate: null }),
    selection({ group_id: 'g1', epoch: 0, label: 'pass', verdict: 'fail' }),
    selection({ group_id: 'g4', epoch: 1, label: null, verdict: 'pass', reason: '第一行\n第二行' }),
  ];

  it('writes one schema-valid record per well-formed group of the epoch and counts the rest', () => {
    const { records, skipped } = buildDistillRecords(selections, 1, promptFor);
    expect(records.map((r) => r.group_id)).toEqual(['g1', 'g2']);
    for (const record of records) {
      expect(DistillRecordSchema.safeParse(record).success).toBe(true);
      expect(Object.keys(record).sort()).toEqual(['group_id', 'label', 'messages', 'mission']);
      expect(record.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    }
    expect(skipped.map((s) => s.group_id).sort()).toEqual(['g3', 'g4']);
  });

  it('uses the rebuilt prompt and the selected verdict in the two-line protocol', () => {
    const { records } = buildDistillRecords(selections, 1, promptFor);
    const g2 = records.find((r) => r.group_id === 'g2')!;
    expect(g2.label).toBe('fail');
    expect(g2.messages[0].content).toBe('你是质检员。[G0]. 检查接地线 (step 3)');
    expect(g2.messages[1].content).toBe('工单 g2: image_1 接地线×1');
    expect(g2.messages[2].content).toBe('Verdict: 不通过\nReason: 缺少接地线标签');
    const parsed = parseVerdictResponse(g2.messages[2].content, 'two_line');
    expect(parsed.ok && parsed.value.verdict).toBe('fail');
    expect(g2.messages[2].content).not.toMatch(/Confidence/);
  });

  it('takes only the requested epoch, and the last row of a group appended twice', () => {
    const rows = [
      selection({ group_id: 'g1', epoch: 0, verdict: 'fail', reason: '旧理由' }),
      selection({ group_id: 'g1', epoch: 0, verdict: 'pass', reason: '新理由' }),
    ];
    const { records } = buildDistillRecords(rows, 0, promptFor);
    expect(records).toHaveLength(1);
    expect(records[0].messages[2].content).toBe('Verdict: 通过\nReason: 新理由');
    expect(buildDistillRecords(rows, 1, promptFor).records).toEqual([]);
  });

  it('never carries reflection text, and the guard catches it when it is there', () => {
    const { records } = buildDistillRecords(selections, 1, promptFor);
    const texts = collectReflectionTexts(selections, []);
    expect(texts).toContain(reflective.summary);
    for (const record of records) {
      expect(() => assertNoReflectionText(record, texts)).not.toThrow();
      expect(JSON.stringify(record)).not.toContain(reflective.critique);
    }
    // A prompt builder that leaked the critique into the user turn must be caught.
    const leaky = buildDistillRecords(selections, 1, (id, row) => ({ system: 'sys', user: `${id} ${row.critique ?? ''}` })).records;
    expect(() => assertNoReflectionText(leaky[0], texts)).toThrow(StageBError);
    expect(() => assertNoReflectionText(leaky[0], texts)).toThrow(/messages\[1\]|user turn/);
  });

  it('collects proposal texts but not operation texts, which become guidance in the prompt', () => {
    const texts = collectReflectionTexts([], [
      {
        epoch: 0,
        reflection: {
          reflection_id: 'r1',
          mission: 'm',
          batch_index: 0,
          cycle: 0,
          proposal: {
            action: 'refine',
            summary: '本批次有两例误放行需要修正',
            critique: '模型忽视了接地线标签缺失',
            operations: [{ op: 'add', key: 'G3', text: '接地线必须有标签', rationale: '两例误放行都缺标签', evidence: ['g1::fail'] }],
            evidence_group_ids: ['g1'],
            uncertainty_note: null,
          },
          eligible: true,
          ineligible_reason: null,
          applied: true,
          pre_uplift: null,
          post_uplift: null,
          uplift_probability: null,
          guidance_step_before: 1,
          guidance_step_after: 2,
          debug_info: null,
          cache_artifacts: [],
          decision_detail: null,
          review_items: [],
        },
        created_at: '2025-01-01T00:00:00Z',
      },
    ]);
    expect(texts.sort()).toEqual(['两例误放行都缺标签', '本批次有两例误放行需要修正', '模型忽视了接地线标签缺失'].sort());
    expect(texts).not.toContain('接地线必须有标签');
  });
});
