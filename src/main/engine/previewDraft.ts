import type { HoldoutComparison, HoldoutVerdict } from '../../shared/schemas/holdoutComparison';
import { StageBError } from '../../shared/errors';
import { compareOnHoldout } from './compareOnHoldout';
import { decideGate, type GateConfig } from './reflection/holdoutGate';
import type { HoldoutVariant } from './attributeRules';

export type PreviewDraftInput = {
  current: Readonly<Record<string, string>>;
  draft: Readonly<Record<string, string>>;
  evaluate: (variant: HoldoutVariant) => Promise<HoldoutVerdict[]>;
  gate: GateConfig;
  /** The run's seed: the comparison's bootstrap uses it, as the reflection gate does. */
  seed: number;
  signal?: AbortSignal;
};

export type PreviewDraftOutcome = {
  rows_current: HoldoutVerdict[];
  rows_draft: HoldoutVerdict[];
  comparison: HoldoutComparison;
  /** What the reflection gate would decide about this draft as a plan (a person's save is not gated). */
  gate: { apply: boolean; reason: string | null; why: string };
};

/**
 * A draft guidance against the current one on the run's holdout, before anyone saves it:
 * both evaluated with the same decode seeds, compared ticket by ticket (baseline = current,
 * candidate = draft), and read by the reflection gate with the run's own thresholds. No IO.
 */
export async function previewDraft(input: PreviewDraftInput): Promise<PreviewDraftOutcome> {
  const throwIfCancelled = () => {
    if (input.signal?.aborted) throw new StageBError('CANCELLED', 'preview cancelled by the operator');
  };
  throwIfCancelled();
  const rowsCurrent = await input.evaluate({ index: 0, total: 2, label: 'the current guidance', experiences: { ...input.current } });
  throwIfCancelled();
  const rowsDraft = await input.evaluate({ index: 1, total: 2, label: 'the draft', experiences: { ...input.draft } });
  const comparison = compareOnHoldout(rowsCurrent, rowsDraft, { samples: input.gate.bootstrap_samples, seed: input.seed });
  const decision = decideGate({ baselineRows: rowsCurrent, previewRows: rowsDraft, config: input.gate, seed: input.seed });
  return { rows_current: rowsCurrent, rows_draft: rowsDraft, comparison, gate: { apply: decision.apply, reason: decision.reason, why: decision.why } };
}
