import { describe, expect, it } from 'vitest';
import type { ReflectionLogRecord } from '../../shared/schemas/records';
import { batchReflectionReason, batchWarningEvents } from './batchWarnings';
import { makeGroup } from './reflection/reflectionTestData';

const decision = (applied: boolean, reason: string | null) => ({ applied, ineligible_reason: reason }) as unknown as ReflectionLogRecord['reflection'];

describe('batchReflectionReason', () => {
  it("is the decision's reason when it did not apply, null when it applied or has not run, reflection_disabled when off", () => {
    expect(batchReflectionReason(decision(false, 'non_conflict_bundle'), true)).toBe('non_conflict_bundle');
    expect(batchReflectionReason(decision(false, 'holdout_no_uplift'), true)).toBe('holdout_no_uplift');
    expect(batchReflectionReason(decision(true, null), true)).toBeNull();
    expect(batchReflectionReason(undefined, true)).toBeNull();
    expect(batchReflectionReason(undefined, false)).toBe('reflection_disabled');
  });
});

describe('batchWarningEvents', () => {
  const noisy = makeGroup({ group: 'g1', label: 'fail', verdicts: ['pass', null, 'fail'], warnings: ['malformed_output', 'low_self_consistency'] });
  const dropped = makeGroup({ group: 'g2', label: 'pass', verdicts: [], warnings: ['prompt_over_budget'] });
  const clean = makeGroup({ group: 'g3', label: 'pass', verdicts: ['pass', 'pass'] });
  const selections = [noisy.selection, { ...dropped.selection, selection_rule: 'dropped: prompt over budget' }, clean.selection];
  const trajectories = [...noisy.candidates, ...clean.candidates];

  it("gives every warning of the batch its reflection's reason, with what rollout knew", () => {
    const events = batchWarningEvents({
      selections,
      trajectories,
      ts: 't',
      reason: 'non_conflict_bundle',
      notes: new Map([
        ['g2::pass', { dropped: 'prompt of 9000 tokens, over the budget of 4096' }],
        ['g1::fail', { summaryError: 'summary not JSON' }],
      ]),
    });
    expect(events.map((e) => [e.group_id, e.code, e.message])).toEqual([
      ['g1', 'malformed_output', 'candidate 1: no verdict line'],
      ['g1', 'malformed_output', 'malformed_output (vote pass=1 fail=1 malformed=1)'],
      ['g1', 'low_self_consistency', 'low_self_consistency (vote pass=1 fail=1 malformed=1)'],
      ['g1', 'summary_failed', 'summary not JSON'],
      ['g2', 'prompt_over_budget', 'prompt of 9000 tokens, over the budget of 4096'],
    ]);
    expect(new Set(events.map((e) => e.ineligible_reason))).toEqual(new Set(['non_conflict_bundle']));
    expect(events.every((e) => e.type === 'warning' && e.guidance_step === 0 && e.ts === 't')).toBe(true);
  });

  it('rebuilds a resumed batch\'s warnings from its records alone', () => {
    const events = batchWarningEvents({ selections, trajectories, ts: 't', reason: null });
    expect(events.map((e) => [e.group_id, e.code, e.message])).toEqual([
      ['g1', 'malformed_output', 'candidate 1: no verdict line'],
      ['g1', 'malformed_output', 'malformed_output (vote pass=1 fail=1 malformed=1)'],
      ['g1', 'low_self_consistency', 'low_self_consistency (vote pass=1 fail=1 malformed=1)'],
      ['g2', 'prompt_over_budget', 'dropped: prompt over budget'],
    ]);
    expect(events.every((e) => e.ineligible_reason === null)).toBe(true);
  });
});
