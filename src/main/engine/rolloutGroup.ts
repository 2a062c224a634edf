import type { LlmBackend, Completion } from '../llm/LlmBackend';
import type { Ticket } from '../../shared/schemas/stageARecord';
import type { DecodeParams } from '../../shared/schemas/decode';
import type { RunConfig } from '../../shared/schemas/runConfig';
import type { Signals } from '../../shared/schemas/signals';
import type { WarningCode } from '../../shared/schemas/records';
import type { GroupLabel } from '../../shared/verdict';
import { parseVerdictResponse, verdictGrammar } from '../../shared/verdictProtocol';
import { StageBError } from '../../shared/errors';
import { buildRolloutPrompt } from './promptBuilder';
import { candidateDecodeParams } from './decodeGrid';
import { computeGroupSignals } from './signals';
import { selectCandidate, type SelectionOutcome } from './selection';

export type CandidateResult = {
  candidate_index: number;
  decode: DecodeParams;
  response_text: string;
  verdict: GroupLabel | null;
  reason: string | null;
  confidence: number | null;
  format_ok: boolean;
  parse_error: string | null;
  signals: Signals;
  tokens: { prompt: number; generated: number };
  warnings: WarningCode[];
};

export type GroupRollout =
  | { status: 'ok'; ticket: Ticket; candidates: CandidateResult[]; selection: SelectionOutcome; warnings: WarningCode[] }
  | { status: 'dropped'; ticket: Ticket; reason: string; promptTokens: number };

/**
 * Rolls out K candidates for one group under a fixed experiences map. Candidates
 * that share a prompt variant share one request, so a backend can evaluate the
 * group's prompt once for them. A prompt over budget is dropped and reported,
 * never truncated.
 */
export async function rolloutGroup(input: {
  backend: LlmBackend;
  ticket: Ticket;
  mission: string;
  experiences: Record<string, string>;
  sampler: RunConfig['sampler'];
  seed: number;
  epoch: number;
  purpose: 'rollout' | 'holdout';
  promptBudget: number;
  signal?: AbortSignal;
}): Promise<GroupRollout> {
  const { backend, ticket, sampler } = input;
  const decodes = candidateDecodeParams(sampler, input.seed, input.epoch, ticket.group_id, input.purpose);
  const byVariant = new Map<string, number[]>();
  decodes.forEach((decode, index) => {
    const list = byVariant.get(decode.prompt_variant) ?? [];
    list.push(index);
    byVariant.set(decode.prompt_variant, list);
  });

  const grammar = verdictGrammar(sampler.format, sampler.max_reason_chars);
  const completions: Completion[] = new Array(decodes.length);
  const requests = [...byVariant.entries()].map(async ([variant, indices]) => {
    const prompt = buildRolloutPrompt({
      mission: input.mission,
      experiences: input.experiences,
      ticket,
      variant: decodes[indices[0]].prompt_variant,
      format: sampler.format,
    });
    const promptTokens = await backend.countPromptTokens(prompt);
    if (promptTokens > input.promptBudget) {
      throw new StageBError('PROMPT_OVER_BUDGET', `prompt for ${ticket.group_id} (${variant}) has ${promptTokens} tokens, over the budget of ${input.promptBudget}`, {
        file: ticket.source.file,
        line: ticket.source.line,
        field: 'per_image',
      }, { promptTokens });
    }
    const results = await backend.generate(
      { prompt, candidates: indices.map((i) => decodes[i]), constraint: { kind: 'gbnf', grammar } },
      input.signal,
    );
    indices.forEach((candidateIndex, k) => (completions[candidateIndex] = results[k]));
  });
  try {
    await Promise.all(requests);
  } catch (error) {
    if (error instanceof StageBError && error.code === 'PROMPT_OVER_BUDGET') {
      return { status: 'dropped', ticket, reason: error.message, promptTokens: Number((error.details as { promptTokens?: number })?.promptTokens ?? 0) };
    }
    throw error;
  }

  const parsed = completions.map((completion) => parseVerdictResponse(completion.text, sampler.format));
  const outcomes = parsed.map((result) => ({
    verdict: result.ok ? result.value.verdict : null,
    confidence: result.ok ? result.value.confidence : null,
  }));
  const signals = computeGroupSignals(outcomes, ticket.label);
  const candidates: CandidateResult[] = completions.map((completion, index) => {
    const result = parsed[index];
    const warnings: WarningCode[] = [];
    if (!result.ok) warnings.push('malformed_output');
    else if (sampler.format === 'three_line' && result.value.confidence === null) warnings.push('missing_confidence');
    return {
      candidate_index: index,
      decode: decodes[index],
      response_text: completion.text,
      verdict: result.ok ? result.value.verdict : null,
      reason: result.ok ? result.value.reason : result.partial.reason ?? null,
      confidence: result.ok ? result.value.confidence : null,
      format_ok: result.ok,
      parse_error: result.ok ? null : `${result.error}${completion.finishReason === 'length' ? ' (hit max_new_tokens)' : ''}`,
      signals: signals[index],
      tokens: { prompt: completion.promptTokens, generated: completion.generatedTokens },
      warnings,
    };
  });
  const selection = selectCandidate(candidates);
  const groupWarnings: WarningCode[] = [];
  if (selection.vote.malformed > 0) groupWarnings.push('malformed_output');
  if (selection.selected === null) groupWarnings.push('all_candidates_malformed');
  const wellFormed = selection.vote.pass + selection.vote.fail;
  if (wellFormed > 1 && Math.max(selection.vote.pass, selection.vote.fail) / wellFormed < 0.75) groupWarnings.push('low_self_consistency');
  if (ticket.label !== null && wellFormed > 0 && candidates.every((c) => c.verdict === null || c.verdict !== ticket.label)) {
    groupWarnings.push('candidates_disagree_with_label');
  }
  return { status: 'ok', ticket, candidates, selection, warnings: groupWarnings };
}
