import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from '../../../shared/schemas/runConfig';
import { decideGate, refuseHoldout } from './holdoutGate';
import type { HoldoutRow } from './reflectionArtifacts';

const config = RunConfigSchema.shape.reflection.parse({});
const rows = (verdicts: ('pass' | 'fail' | null)[], labels: ('pass' | 'fail')[]): HoldoutRow[] => labels.map((label, i) => ({ ticket_key: `h${i}::${label}`, label, verdict: verdicts[i] }));
const LABELS: ('pass' | 'fail')[] = ['fail', 'fail', 'fail', 'pass', 'pass', 'pass', 'pass', 'pass'];

describe('decideGate', () => {
  it('applies a plan with real uplift and lists the tickets whose verdict changed', () => {
    const base = rows(['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass'], LABELS);
    const preview = rows(['fail', 'fail', 'fail', 'pass', 'pass', 'pass', 'pass', 'pass'], LABELS);
    const gate = decideGate({ baselineRows: base, previewRows: preview, config, seed: 1 });
    expect(gate).toMatchObject({ apply: true, reason: null });
    expect(gate.checks.changed_tickets.map((c) => c.ticket_key)).toEqual(['h0::fail', 'h1::fail', 'h2::fail']);
    expect(gate.checks.fail_tickets).toBe(3);
    expect(gate.why).toMatch(/^applied: label_match 62.5% → 100.0%/);
  });

  it('checks false release before no change, no uplift and uncertainty', () => {
    const base = rows(['fail', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass'], LABELS);
    expect(decideGate({ baselineRows: base, previewRows: rows(['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass'], LABELS), config, seed: 1 }).reason).toBe('holdout_false_release_increase');
    expect(decideGate({ baselineRows: base, previewRows: base, config, seed: 1 }).reason).toBe('holdout_no_verdict_change');
    // One ticket fixed, one broken elsewhere: changed verdicts, delta 0.
    const swap = rows(['fail', 'fail', 'pass', 'fail', 'pass', 'pass', 'pass', 'pass'], LABELS);
    expect(decideGate({ baselineRows: base, previewRows: swap, config: { ...config, apply_if_delta: 0.01 }, seed: 1 }).reason).toBe('holdout_no_uplift');
    expect(decideGate({ baselineRows: base, previewRows: swap, config, seed: 1 }).reason).toBe('holdout_uplift_uncertain');
  });

  it('refuses a holdout with no fail ticket unless configured otherwise', () => {
    const passOnly = rows(['pass', 'fail'], ['pass', 'pass']);
    expect(refuseHoldout(passOnly, config)?.reason).toBe('holdout_no_fail_ticket');
    expect(refuseHoldout(passOnly, { allow_holdout_without_fail: true })).toBeNull();
    expect(refuseHoldout([], config)?.reason).toBe('no_holdout');
  });
});
