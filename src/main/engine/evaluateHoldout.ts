import type { LlmBackend } from '../llm/LlmBackend';
import type { RunConfig } from '../../shared/schemas/runConfig';
import type { Ticket } from '../../shared/schemas/stageARecord';
import type { HoldoutVerdict } from '../../shared/schemas/holdoutComparison';
import { rolloutGroup } from './rolloutGroup';

export type HoldoutEvaluationInput = {
  backend: LlmBackend;
  config: Pick<RunConfig, 'mission' | 'sampler' | 'seed'>;
  /** Labelled holdout tickets. */
  tickets: readonly Ticket[];
  promptBudget: number;
  signal?: AbortSignal;
  /** Called as each ticket's verdict is known (progress). */
  onTicket?: (done: number, total: number) => void;
};

/**
 * The holdout verdicts of one guidance: every ticket rolled out with the SAME decode seeds
 * (purpose 'holdout', epoch 0) whatever the guidance, so two evaluations are paired ticket by
 * ticket. The reflection gate, the attribution and the preview all evaluate through here.
 * A dropped (over-budget) or malformed group has verdict null.
 */
export async function evaluateHoldout(input: HoldoutEvaluationInput, experiences: Record<string, string>): Promise<HoldoutVerdict[]> {
  let done = 0;
  const results = await Promise.all(
    input.tickets.map(async (ticket) => {
      const group = await rolloutGroup({
        backend: input.backend,
        ticket,
        mission: input.config.mission,
        experiences,
        sampler: input.config.sampler,
        seed: input.config.seed,
        epoch: 0,
        purpose: 'holdout',
        promptBudget: input.promptBudget,
        signal: input.signal,
      });
      input.onTicket?.(++done, input.tickets.length);
      return group;
    }),
  );
  return results.map((group) => ({
    ticket_key: group.ticket.ticket_key,
    label: group.ticket.label!,
    verdict: group.status === 'ok' ? group.selection.verdict : null,
  }));
}
