/**
 * Record builders for the reflection tests (test-only; not imported by product code).
 */
import type { GroupLabel } from '../../../shared/verdict';
import type { SelectionRecord, TrajectoryRecord, WarningCode } from '../../../shared/schemas/records';
import type { Ticket } from '../../../shared/schemas/stageARecord';
import type { Completion, GenerateRequest, LlmBackend } from '../../llm/LlmBackend';

export const TEST_MISSION = 'BBU接地线检查';
const NOW = '2026-01-01T00:00:00.000Z';

export type GroupSpec = {
  group: string;
  label: GroupLabel | null;
  /** One entry per candidate; null = malformed. The first well-formed majority is selected. */
  verdicts: (GroupLabel | null)[];
  warnings?: WarningCode[];
  epoch?: number;
  batch?: number;
};

export function makeGroup(spec: GroupSpec): { selection: SelectionRecord; candidates: TrajectoryRecord[] } {
  const epoch = spec.epoch ?? 0;
  const ticket_key = `${spec.group}::${spec.label ?? 'unlabeled'}`;
  const vote = { pass: 0, fail: 0, malformed: 0 };
  for (const v of spec.verdicts) {
    if (v) vote[v]++;
    else vote.malformed++;
  }
  const wellFormed = vote.pass + vote.fail;
  const selectedVerdict: GroupLabel | null = wellFormed === 0 ? null : vote.pass >= vote.fail ? 'pass' : 'fail';
  const selectedIndex = selectedVerdict === null ? null : spec.verdicts.indexOf(selectedVerdict);
  const agreement = wellFormed === 0 ? null : vote.pass === 0 || vote.fail === 0;
  const candidates: TrajectoryRecord[] = spec.verdicts.map((verdict, i) => ({
    run_name: 'test',
    mission: TEST_MISSION,
    epoch,
    batch_index: spec.batch ?? 0,
    group_id: spec.group,
    ticket_key,
    label: spec.label,
    candidate_index: i,
    decode: { temperature: 0.7, top_p: 0.9, seed: i, max_new_tokens: 64, prompt_variant: 'default' },
    response_text: verdict ? `Verdict: ${verdict === 'pass' ? '通过' : '不通过'}\nReason: 理由${i}\nConfidence: 0.80` : 'garbage',
    verdict,
    reason: verdict ? `理由${i}` : null,
    confidence: verdict ? 0.8 : null,
    format_ok: verdict !== null,
    parse_error: verdict ? null : 'no verdict line',
    signals: {
      label_match: verdict && spec.label ? verdict === spec.label : null,
      self_consistency: verdict && wellFormed ? vote[verdict] / wellFormed : null,
      candidate_agreement: agreement,
      confidence: verdict ? 0.8 : null,
      label_trust: spec.label ? 1 : null,
    },
    guidance_step: 0,
    reflection_cycle: 0,
    summary: null,
    critique: null,
    tokens: { prompt: 100, generated: 10 },
    warnings: [...(spec.warnings ?? [])],
    created_at: NOW,
  }));
  const selection: SelectionRecord = {
    run_name: 'test',
    mission: TEST_MISSION,
    epoch,
    batch_index: spec.batch ?? 0,
    group_id: spec.group,
    ticket_key,
    label: spec.label,
    selected_candidate: selectedIndex,
    verdict: selectedVerdict,
    reason: selectedIndex === null ? null : `理由${selectedIndex}`,
    confidence: selectedIndex === null ? null : 0.8,
    response_text: selectedIndex === null ? '' : candidates[selectedIndex].response_text,
    vote,
    selection_rule: 'majority',
    signals: {
      label_match: selectedVerdict && spec.label ? selectedVerdict === spec.label : null,
      self_consistency: selectedVerdict && wellFormed ? vote[selectedVerdict] / wellFormed : null,
      candidate_agreement: agreement,
      confidence: selectedIndex === null ? null : 0.8,
      label_trust: spec.label ? 1 : null,
    },
    guidance_step: 0,
    reflection_cycle: 0,
    reflection_id: null,
    summary: null,
    critique: null,
    eligible: null,
    ineligible_reason: null,
    warnings: [...(spec.warnings ?? [])],
    created_at: NOW,
  };
  return { selection, candidates };
}

export function makeTicket(group: string, label: GroupLabel | null): Ticket {
  return {
    ticket_key: `${group}::${label ?? 'unlabeled'}`,
    group_id: group,
    mission: TEST_MISSION,
    label,
    images: ['a.jpg', 'b.jpg'],
    summaries: [
      { image: 'image_1', text: 'BBU设备×1，接地线×1，标签/可识别' },
      { image: 'image_2', text: '螺丝×2，接地端子/未紧固' },
    ],
    source: { file: 'test.jsonl', line: 1 },
  };
}


export type ScriptedReply = string | { text: string; finishReason: Completion['finishReason'] };

/**
 * A scripted LlmBackend for the reflection gate tests only (the integration test uses
 * the real backend). It answers the SampleSummarizer with a fixed JSON summary and the
 * critique stage with the next scripted reply, and records every request it receives.
 */
export class ScriptedBackend implements LlmBackend {
  readonly info = { backend: 'llama-cpp' as const, modelName: 'scripted', modelPath: null, contextSize: 4096, gpu: false as const };
  readonly requests: GenerateRequest[] = [];
  private readonly critiqueReplies: ScriptedReply[];

  constructor(critiqueReplies: ScriptedReply[]) {
    this.critiqueReplies = [...critiqueReplies];
  }

  get calls(): number {
    return this.requests.length;
  }

  async generate(request: GenerateRequest): Promise<Completion[]> {
    this.requests.push(request);
    const schema = request.constraint.kind === 'json_schema' ? request.constraint.schema : null;
    const properties = (schema?.properties ?? {}) as Record<string, unknown>;
    let reply: ScriptedReply;
    if ('summary' in properties) {
      reply = JSON.stringify({ summary: '选中候选判定通过，理由是接地线已连接。', critique: '未核对接地端子是否紧固。' });
    } else {
      const next = this.critiqueReplies.shift();
      if (next === undefined) throw new Error('ScriptedBackend: no scripted critique reply left');
      reply = next;
    }
    const text = typeof reply === 'string' ? reply : reply.text;
    const finishReason = typeof reply === 'string' ? 'stop' : reply.finishReason;
    return request.candidates.map(() => ({ text, finishReason, promptTokens: 100, generatedTokens: 20 }));
  }
  async countPromptTokens(): Promise<number> {
    return 100;
  }
  async countTextTokens(text: string): Promise<number> {
    return text.length;
  }
  tokenMeter() {
    return { promptEvaluated: 0, promptUnique: 0, promptTotal: 0, generated: 0 };
  }
  async close(): Promise<void> {}
}
