import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { runAttribution } from '../../src/main/composeHoldoutStudy';
import { leaveRuleOut, attributionSeed } from '../../src/main/engine/attributeRules';
import { AttributionResultSchema, type HoldoutVerdict } from '../../src/shared/schemas/holdoutComparison';
import { RunEventSchema, type RunEvent } from '../../src/shared/schemas/telemetry';
import { GuidanceFileSchema } from '../../src/shared/schemas/guidance';
import { sortExperienceKeys } from '../../src/shared/guidance/sortExperienceKeys';
import { pairedBootstrapUpliftProbability } from '../../src/shared/metrics/pairedBootstrapUpliftProbability';
import { finishedTinyRun } from './holdoutStudyFixture';

let dir: string;
let configPath: string;
let runDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stageb-attribute-'));
  ({ configPath, runDir } = await finishedTinyRun(dir, 'attr'));
}, 600_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const collector = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: { write: (s: string) => (out.push(s), true) }, stderr: { write: (s: string) => (err.push(s), true) } } };
};

/** Counted by hand from the per-ticket verdicts, not through the metrics module. */
function countRates(rows: readonly HoldoutVerdict[]) {
  const matches = rows.filter((r) => r.verdict === r.label).length;
  const fails = rows.filter((r) => r.label === 'fail');
  const released = fails.filter((r) => r.verdict === 'pass').length;
  return { label_match: matches / rows.length, false_release: fails.length === 0 ? null : released / fails.length };
}

describe('stageb attribute on the tiny model', () => {
  it('leaves a schema-valid result whose per-rule numbers match a recomputation from its own per-ticket verdicts', async () => {
    const { io, out } = collector();
    const code = await main(['attribute', '--config', configPath, '--events-json'], io);
    expect(code).toBe(0);
    const events: RunEvent[] = out.join('').split('\n').filter((l) => l.trim() !== '').map((l) => RunEventSchema.parse(JSON.parse(l)));

    const result = AttributionResultSchema.parse(JSON.parse(await readFile(join(runDir, 'attribution', 'step-0.json'), 'utf8')));
    const guidanceFile = GuidanceFileSchema.parse(JSON.parse(await readFile(join(runDir, 'guidance.json'), 'utf8')));
    const guidance = Object.values(guidanceFile)[0];
    expect(result.guidance_step).toBe(guidance.step);
    expect(result.rules.map((r) => r.key)).toEqual(sortExperienceKeys(Object.keys(guidance.experiences)));
    expect(result.rules.map((r) => r.rule_id)).toEqual(result.rules.map((r) => guidance.metadata[r.key].rule_id));
    // The run's holdout: 4 tickets, both labels (the stratified split).
    expect(result.holdout.tickets).toBe(4);
    expect(result.holdout.fail).toBeGreaterThan(0);
    expect(result.holdout.pass).toBeGreaterThan(0);
    expect(result.rows_with).toHaveLength(4);

    for (const rule of result.rules) {
      const c = rule.comparison;
      expect(rule.text).toBe(guidance.experiences[rule.key]);
      expect(rule.rows_without.map((r) => r.ticket_key)).toEqual(result.rows_with.map((r) => r.ticket_key));
      const withRule = countRates(result.rows_with);
      const without = countRates(rule.rows_without);
      expect(c.candidate.label_match_rate).toBeCloseTo(withRule.label_match, 12);
      expect(c.baseline.label_match_rate).toBeCloseTo(without.label_match, 12);
      expect(c.candidate.false_release_rate).toBe(withRule.false_release);
      expect(c.baseline.false_release_rate).toBe(without.false_release);
      expect(c.label_match_difference.estimate).toBeCloseTo(withRule.label_match - without.label_match, 12);
      expect(c.false_release_difference.estimate).toBeCloseTo(withRule.false_release! - without.false_release!, 12);
      for (const d of [c.label_match_difference, c.false_release_difference]) {
        expect(d.lower!).toBeLessThanOrEqual(d.estimate! + 1e-12);
        expect(d.upper!).toBeGreaterThanOrEqual(d.estimate! - 1e-12);
      }
      expect(c.label_match_difference.n).toBe(4);
      expect(c.false_release_difference.n).toBe(result.holdout.fail);
      const changed = result.rows_with.filter((r, i) => r.verdict !== rule.rows_without[i].verdict).map((r) => r.ticket_key);
      expect(c.changed_tickets.map((t) => t.ticket_key)).toEqual(changed);
      expect(c.bootstrap).toEqual({ samples: 400, seed: attributionSeed(5, rule.rule_id) });
      const p = pairedBootstrapUpliftProbability(
        rule.rows_without.map((r) => r.verdict === r.label),
        result.rows_with.map((r) => r.verdict === r.label),
        400,
        c.bootstrap.seed,
      );
      expect(c.uplift_probability).toBe(p);
    }

    // Progress: one phase per evaluation, progress up to every ticket of every evaluation, then done.
    const evaluations = result.rules.length + 1;
    const progress = events.filter((e): e is Extract<RunEvent, { type: 'progress' }> => e.type === 'progress');
    expect(progress).toHaveLength(evaluations * 4);
    expect(progress.at(-1)).toMatchObject({ groups_done: evaluations * 4, groups_total: evaluations * 4, batches: evaluations });
    expect(events.filter((e) => e.type === 'phase' && e.phase === 'attribution')).toHaveLength(evaluations + 1);
    expect(events.at(-1)).toMatchObject({ type: 'done', status: 'completed' });
  }, 600_000);

  it('reuses the result cached for the step, and --force measures the same numbers again', async () => {
    const file = join(runDir, 'attribution', 'step-0.json');
    const before = await readFile(file, 'utf8');
    const mtime = (await stat(file)).mtimeMs;
    const { io, out } = collector();
    expect(await main(['attribute', '--run', runDir], io)).toBe(0);
    expect(out.join('')).toMatch(/cached/);
    expect(out.join('')).toMatch(/G0 +R-/);
    expect((await stat(file)).mtimeMs).toBe(mtime);

    const forced = await runAttribution({ target: { configPath }, force: true });
    expect(forced.reused).toBe(false);
    const strip = (text: string) => ({ ...JSON.parse(text), created_at: null });
    expect(strip(await readFile(file, 'utf8'))).toEqual(strip(before));
  }, 600_000);

  it('stops with CANCELLED when its signal aborts, and leaves the cached result as it was', async () => {
    const file = join(runDir, 'attribution', 'step-0.json');
    const before = await readFile(file, 'utf8');
    const controller = new AbortController();
    await expect(
      runAttribution({
        target: { configPath },
        force: true,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'progress' && event.groups_done === 2) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await readFile(file, 'utf8')).toBe(before);
  }, 600_000);

  it('the CLI cancels on SIGINT mid-evaluation and exits 130', async () => {
    const bin = fileURLToPath(new URL('../../bin/stageb.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'attribute', '--config', configPath, '--force', '--events-json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const lines = createInterface({ input: child.stdout });
    let signalled = false;
    lines.on('line', (line) => {
      if (!signalled && line.includes('"progress"')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
    expect(signalled).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toMatch(/CANCELLED/);
  }, 600_000);

  it('leaving a rule out renumbers the learned keys as a removal would', () => {
    expect(leaveRuleOut({ G0: 'a', G1: 'b', G2: 'c', S1: 's' }, 'G1')).toEqual({ G0: 'a', G1: 'c', S1: 's' });
    expect(leaveRuleOut({ G0: 'a', G1: 'b' }, 'G0')).toEqual({ G1: 'b' });
  });
});
