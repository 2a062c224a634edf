import type { LlmBackend } from '../../src/main/llm/LlmBackend';
import type { Ticket } from '../../src/shared/schemas/stageARecord';
import type { RunConfig } from '../../src/shared/schemas/runConfig';
import { rolloutGroup, type GroupRollout } from '../../src/main/engine/rolloutGroup';

export type WorkloadResult = {
  seconds: number;
  /** Each batch's time on this backend; `seconds` is their sum. */
  batchSeconds: number[];
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
 *
 * With several backends, each batch runs on every backend in turn before the
 * next batch starts, and each backend's time is the sum of its own batches: the
 * host's speed drifts by tens of percent over minutes (docs/performance.md), and
 * interleaving puts every path on the same stretches of it instead of one path
 * after the other.
 */
export async function runRolloutWorkload(input: {
  backends: readonly LlmBackend[];
  tickets: Ticket[];
  mission: string;
  experiences: Record<string, string>;
  sampler: RunConfig['sampler'];
  batchSize: number;
  seed: number;
  promptBudget: number;
  onBatch?: (backend: number, done: number, total: number) => void;
  /** Awaited before and after each backend's batch, outside its timing (measurements in between). */
  beforeBatch?: (backend: number, batch: number) => Promise<void>;
  afterBatch?: (backend: number, batch: number) => Promise<void>;
}): Promise<WorkloadResult[]> {
  const rollouts: GroupRollout[][] = input.backends.map(() => []);
  const batchSeconds: number[][] = input.backends.map(() => []);
  for (let i = 0; i < input.tickets.length; i += input.batchSize) {
    const batch = input.tickets.slice(i, i + input.batchSize);
    for (const [b, backend] of input.backends.entries()) {
      await input.beforeBatch?.(b, i / input.batchSize);
      const start = performance.now();
      rollouts[b].push(
        ...(await Promise.all(
          batch.map((ticket) =>
            rolloutGroup({
              backend,
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
      batchSeconds[b].push((performance.now() - start) / 1000);
      input.onBatch?.(b, Math.min(i + input.batchSize, input.tickets.length), input.tickets.length);
      await input.afterBatch?.(b, i / input.batchSize);
    }
  }
  return rollouts.map((groups, b) => summarize(groups, batchSeconds[b], input.tickets.length));
}

function summarize(groups: readonly GroupRollout[], batchSeconds: number[], tickets: number): WorkloadResult {
  const texts: string[] = [];
  let generatedTokens = 0;
  let dropped = 0;
  for (const rollout of groups) {
    if (rollout.status === 'dropped') {
      dropped++;
      continue;
    }
    for (const candidate of rollout.candidates) {
      texts.push(candidate.response_text);
      generatedTokens += candidate.tokens.generated;
    }
  }
  return { seconds: batchSeconds.reduce((a, b) => a + b, 0), batchSeconds, tickets, dropped, texts, generatedTokens };
}
