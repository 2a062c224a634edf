import type { ExperienceMeta } from '../../shared/schemas/guidance';
import type { HoldoutVerdict, RuleAttribution } from '../../shared/schemas/holdoutComparison';
import { compactExperiences } from '../../shared/guidance/compactExperiences';
import { sortExperienceKeys } from '../../shared/guidance/sortExperienceKeys';
import { deriveSeed } from '../../shared/random';
import { StageBError } from '../../shared/errors';
import { compareOnHoldout } from './compareOnHoldout';

/** One guidance text to evaluate: `index` of `total`, for progress. */
export type HoldoutVariant = { index: number; total: number; label: string; experiences: Record<string, string> };

export type AttributeRulesInput = {
  experiences: Readonly<Record<string, string>>;
  metadata: Readonly<Record<string, ExperienceMeta>>;
  /** The run's holdout verdicts under one guidance (evaluateHoldout). */
  evaluate: (variant: HoldoutVariant) => Promise<HoldoutVerdict[]>;
  bootstrapSamples: number;
  seed: number;
  signal?: AbortSignal;
};

/**
 * The guidance with one rule left out, as a removal would leave it: learned keys
 * renumbered densely (compactExperiences), G0 and S<n> keep their keys.
 */
export function leaveRuleOut(experiences: Readonly<Record<string, string>>, key: string): Record<string, string> {
  const rest = Object.fromEntries(Object.entries(experiences).filter(([k]) => k !== key));
  return compactExperiences({ experiences: rest }).experiences;
}

/** The bootstrap seed of one rule's comparison: fixed by the run's seed and the rule's identity. */
export function attributionSeed(seed: number, ruleId: string): number {
  return deriveSeed(seed, 'attribution', ruleId);
}

/**
 * The measured effect of every rule: the holdout evaluated once with the whole guidance
 * and once per rule with that rule left out; each rule's comparison has baseline = without
 * it, candidate = with it, so a positive label_match difference means the rule helps on
 * this holdout. No IO: `evaluate` runs the model.
 */
export async function attributeRules(input: AttributeRulesInput): Promise<{ rows_with: HoldoutVerdict[]; rules: RuleAttribution[] }> {
  const keys = sortExperienceKeys(Object.keys(input.experiences));
  const total = keys.length + 1;
  const throwIfCancelled = () => {
    if (input.signal?.aborted) throw new StageBError('CANCELLED', 'attribution cancelled by the operator');
  };
  throwIfCancelled();
  const rowsWith = await input.evaluate({ index: 0, total, label: 'the whole guidance', experiences: { ...input.experiences } });
  const rules: RuleAttribution[] = [];
  for (const [i, key] of keys.entries()) {
    throwIfCancelled();
    const ruleId = input.metadata[key]?.rule_id;
    if (!ruleId) throw new StageBError('INTERNAL', `rule ${key} has no rule_id`, { field: `metadata.${key}.rule_id` });
    const rowsWithout = await input.evaluate({ index: i + 1, total, label: `without ${key}`, experiences: leaveRuleOut(input.experiences, key) });
    rules.push({
      key,
      rule_id: ruleId,
      text: input.experiences[key],
      comparison: compareOnHoldout(rowsWithout, rowsWith, { samples: input.bootstrapSamples, seed: attributionSeed(input.seed, ruleId) }),
      rows_without: rowsWithout,
    });
  }
  return { rows_with: rowsWith, rules };
}
