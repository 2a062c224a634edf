import type { PromptSegments } from '../llm/LlmBackend';
import type { Ticket } from '../../shared/schemas/stageARecord';
import type { PromptVariant } from '../../shared/schemas/decode';
import type { VerdictFormat } from '../../shared/verdictProtocol';
import { renderExperiences } from '../../shared/guidance/renderExperiences';

/**
 * Rollout prompt layout. Shared content comes first so a backend can evaluate it
 * once: the system prompt, then userParts[0] (experiences block + mission, shared
 * by every group of a batch), then userParts[1] (the group's Stage-A summaries,
 * shared by its K candidates), then userParts[2] (the short prompt-variant
 * instruction, the only per-candidate text).
 */
export function buildSystemPrompt(format: VerdictFormat): string {
  const lines = [
    '你是通信基站安装质检员。你只根据图片摘要和任务经验判断一组照片是否通过质检。',
    '严格按以下格式输出，不要输出其他内容：',
    'Verdict: 通过 或 不通过',
    'Reason: 一句话说明依据',
  ];
  if (format === 'three_line') lines.push('Confidence: 0.00 到 1.00 之间的置信度');
  return lines.join('\n');
}

export function buildSharedUserPrefix(mission: string, experiences: Record<string, string>): string {
  return `任务: ${mission}\n经验:\n${renderExperiences(experiences)}\n\n`;
}

export function buildGroupUserPart(ticket: Pick<Ticket, 'group_id' | 'summaries'>): string {
  const lines = ticket.summaries.map((summary, index) => `图片${index + 1}: ${summary.text}`);
  return `工单 ${ticket.group_id} 的图片摘要:\n${lines.join('\n')}\n\n`;
}

const VARIANT_INSTRUCTIONS: Record<PromptVariant, string> = {
  default: '请给出判定。',
  checklist: '请先对照经验 G0 的检查项逐条核对，再给出判定。',
  evidence_first: '请先找出摘要中最关键的证据，再给出判定。',
};

export function buildVariantInstruction(variant: PromptVariant): string {
  return VARIANT_INSTRUCTIONS[variant];
}

export function buildRolloutPrompt(input: {
  mission: string;
  experiences: Record<string, string>;
  ticket: Pick<Ticket, 'group_id' | 'summaries'>;
  variant: PromptVariant;
  format: VerdictFormat;
}): PromptSegments {
  return {
    system: buildSystemPrompt(input.format),
    userParts: [
      buildSharedUserPrefix(input.mission, input.experiences),
      buildGroupUserPart(input.ticket),
      buildVariantInstruction(input.variant),
    ],
  };
}

/** The prompt as plain chat messages (what the distill corpus stores). */
export function promptToMessages(prompt: PromptSegments): { system: string; user: string } {
  return { system: prompt.system, user: prompt.userParts.join('') };
}
