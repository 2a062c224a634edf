import type { Ticket } from '../../../shared/schemas/stageARecord';
import type { LlmBackend } from '../../llm/LlmBackend';
import type { BundleGroup } from './eligibility';
import { SummaryArtifactSchema, type SummaryArtifact, type SummaryGroup } from './reflectionArtifacts';
import { defineReflectionStage } from './runCachedStage';
import { summarizeSample, type SampleSummaryResult } from './sampleSummarizer';
import { reflectionDecode } from './reflectionDecode';

/**
 * Stage 1 (summary). Decision: this stage is deterministic assembly, not a model call.
 * The spec asks to "compress each bundle into a JSON artifact" holding group ids, the
 * guidance step, the selected verdict/reason, the critic summary/critique and the
 * signals: everything but summary/critique is already data, and those two come from
 * the SampleSummarizer (one constrained call per group). When the engine already ran
 * the summarizer after selection (selection.summary/critique set), they are reused and
 * this stage makes no call; otherwise it calls the summarizer for the groups that lack
 * them (except groups without a selected candidate, which have nothing to summarise).
 * Results passed in `known` (what the engine's own summarizer call returned) win over
 * both and are never retried. A group whose summarizer output was invalid keeps nulls and the error: a
 * warning, not a failure of the stage.
 */
export async function buildSummaryArtifact(input: {
  backend: LlmBackend;
  groups: readonly BundleGroup[];
  tickets: ReadonlyMap<string, Ticket>;
  header: Omit<SummaryArtifact, 'stage' | 'schema_version' | 'group_ids' | 'groups' | 'excluded_need_review'>;
  excludedNeedReview: string[];
  /** Results the engine already has (by ticket_key); used as they are, errors included. */
  known?: ReadonlyMap<string, SampleSummaryResult>;
  experiences: Record<string, string>;
  seed: number;
  maxNewTokens: number;
  signal?: AbortSignal;
}): Promise<{ artifact: SummaryArtifact; llmCalls: number }> {
  let llmCalls = 0;
  const groups: SummaryGroup[] = [];
  for (const { selection } of input.groups) {
    let summary = selection.summary;
    let critique = selection.critique;
    let summaryError: string | null = null;
    const known = input.known?.get(selection.ticket_key);
    if (known) {
      summary = known.summary;
      critique = known.critique;
      summaryError = known.error;
    } else if ((summary === null || critique === null) && selection.verdict === null) {
      // Nothing was concluded: there is no candidate to summarise, and no call is made.
      summaryError = 'no selected candidate (all candidates malformed)';
    } else if (summary === null || critique === null) {
      const ticket = input.tickets.get(selection.ticket_key);
      llmCalls++;
      const result = await summarizeSample({
        backend: input.backend,
        sample: {
          mission: input.header.mission,
          experiences: input.experiences,
          ticket: { ticket_key: selection.ticket_key, summaries: ticket?.summaries ?? [] },
          label: selection.label,
          verdict: selection.verdict,
          reason: selection.reason,
          vote: selection.vote,
          signals: selection.signals,
        },
        decode: reflectionDecode(input.seed, input.maxNewTokens, 'sample_summary', input.header.epoch, selection.ticket_key),
        signal: input.signal,
      });
      summary = result.summary;
      critique = result.critique;
      summaryError = result.error;
    }
    groups.push({
      group_id: selection.group_id,
      ticket_key: selection.ticket_key,
      label: selection.label,
      verdict: selection.verdict,
      reason: selection.reason,
      vote: selection.vote,
      summary,
      critique,
      summary_error: summaryError,
      signals: selection.signals,
    });
  }
  return {
    artifact: {
      stage: 'summary',
      schema_version: 1,
      ...input.header,
      group_ids: groups.map((g) => g.group_id),
      groups,
      excluded_need_review: input.excludedNeedReview,
    },
    llmCalls,
  };
}

/** The summary stage: its inputs are the decision's (the reflection id is their fingerprint). */
export const summaryStage = defineReflectionStage<SummaryArtifact>({
  name: 'summary',
  schema: SummaryArtifactSchema,
  inputs: (batch) => batch.decisionInputs,
  async run(batch, _earlier, inputsFingerprint) {
    const built = await buildSummaryArtifact({
      backend: batch.ctx.backend,
      groups: batch.learnable,
      tickets: batch.tickets,
      header: { ...batch.header, inputs_fingerprint: inputsFingerprint },
      excludedNeedReview: batch.eligibility.need_review,
      known: batch.ctx.sampleSummaries,
      experiences: batch.current.experiences,
      seed: batch.ctx.seed,
      maxNewTokens: batch.ctx.config.max_new_tokens,
      signal: batch.ctx.signal,
    });
    return { artifact: built.artifact, llmCalls: built.llmCalls };
  },
  check(summary, batch) {
    const warnings = summary.groups.filter((g) => g.summary_error).map((g) => ({ ticket_key: g.ticket_key, error: g.summary_error }));
    if (warnings.length > 0) batch.debug.summary_warnings = warnings;
    return null;
  },
});
