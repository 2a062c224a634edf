import type { LlmBackend } from '../../src/main/llm/LlmBackend';
import type { Ticket } from '../../src/shared/schemas/stageARecord';
import type { RunConfig } from '../../src/shared/schemas/runConfig';
import { rolloutGroup, type GroupRollout } from '../../src/main/engine/rolloutGroup';

export type WorkloadResult = {
  seconds: number;
  tickets: number;
  dropped: number;
  /** Candidate response texts in (ticket, candidate) order, for comparing paths. */
  texts: string[];
  generatedTokens: number;
};

/**
 * Rolls the tickets out the way the pipeline does: batches of `batchSize`
 * groups, every group of a batch in flight at once, K candidates per group
 * through the engine's rolloutGroup (prompt builder, decode grid, verdict grammar).
 */
export async function runRolloutWorkload(input: {
  backend: LlmBackend;
  tickets: Ticket[];
  mission: string;
  experiences: Record<string, string>;
  sampler: RunConfig['sampler'];
  batchSize: number;
  seed: number;
  promptBudget: number;
  onBatch?: (done: number, total: number) => void;
}): Promise<WorkloadResult> {
  const rollouts: GroupRollout[] = [];
  const start = performance.now();
  for (let i = 0; i < input.tickets.length; i += input.batchSize) {
    const batch = input.tickets.slice(i, i + input.batchSize);
    rollouts.push(
      ...(await Promise.all(
        batch.map((ticket) =>
          rolloutGroup({
            backend: input.backend,
            ticket,
            mission: input.mission,
            experiences: input.experiences,
            sampler: input.sampler,
            seed: input.seed,
            epoch: 0,
            purpose: 'rollout',
            promptBudget: input.promptBudget,
          }),
        ),
      )),
    );
    input.onBatch?.(Math.min(i + input.batchSize, input.tickets.length), input.tickets.length);
  }
  const seconds = (performance.now() - start) / 1000;
  const texts: string[] = [];
  let generatedTokens = 0;
  let dropped = 0;
  for (const rollout of rollouts) {
    if (rollout.status === 'dropped') {
      dropped++;
      continue;
    }
    for (const candidate of rollout.candidates) {
      texts.push(candidate.response_text);
      generatedTokens += candidate.tokens.generated;
    }
  }
  return { seconds, tickets: input.tickets.length, dropped, texts, generatedTokens };
}
