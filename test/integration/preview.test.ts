import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { decideGate } from '../../src/main/engine/reflection/holdoutGate';
import { PreviewResultSchema, type HoldoutVerdict } from '../../src/shared/schemas/holdoutComparison';
import { GuidanceFileSchema } from '../../src/shared/schemas/guidance';
import { RunConfigSchema } from '../../src/shared/schemas/runConfig';
import { finishedTinyRun } from './holdoutStudyFixture';

let dir: string;
let configPath: string;
let runDir: string;
let experiences: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stageb-preview-'));
  ({ configPath, runDir } = await finishedTinyRun(dir, 'prev'));
  experiences = Object.values(GuidanceFileSchema.parse(JSON.parse(await readFile(join(runDir, 'guidance.json'), 'utf8'))))[0].experiences;
}, 600_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const quiet = () => {
  const out: string[] = [];
  return { out, io: { stdout: { write: (s: string) => (out.push(s), true) }, stderr: { write: () => true } } };
};

const matches = (rows: readonly HoldoutVerdict[]) => rows.filter((r) => r.verdict === r.label).length / rows.length;

describe('stageb preview on the tiny model', () => {
  it('a draft equal to the current guidance changes no verdict, and the gate would refuse it for that', async () => {
    const draft = join(dir, 'same.json');
    await writeFile(draft, JSON.stringify({ experiences }));
    const { io, out } = quiet();
    expect(await main(['preview', '--config', configPath, '--guidance', draft, '--id', 'same'], io)).toBe(0);
    const result = PreviewResultSchema.parse(JSON.parse(await readFile(join(runDir, 'preview', 'same.json'), 'utf8')));
    // Same text, same decode seeds: the holdout is evaluated exactly as before.
    expect(result.rows_draft).toEqual(result.rows_current);
    expect(result.comparison.changed_tickets).toEqual([]);
    expect(result.comparison.label_match_difference).toMatchObject({ estimate: 0, lower: 0, upper: 0, n: 4 });
    expect(result.comparison.uplift_probability).toBe(0);
    expect(result.gate).toMatchObject({ apply: false, reason: 'holdout_no_verdict_change' });
    expect(out.join('')).toMatch(/0 verdicts change/);
  }, 600_000);

  it('a different draft: its numbers are recomputed from its own per-ticket verdicts and the gate reads it as the run would', async () => {
    // A guidance file of the mission (what an annotator exports), with a rule rewritten and one added.
    const draftExperiences = { ...experiences, G1: '接地线必须双端压接并可见黄绿色标识，缺一不通过。', G9: '防水胶带缠绕不足三层即判不通过。' };
    const draft = join(dir, 'draft.json');
    await writeFile(draft, JSON.stringify({ RRU接地与防水检查: { step: 0, updated_at: '2026-01-01T00:00:00Z', experiences: draftExperiences } }));
    const { io, out } = quiet();
    expect(await main(['preview', '--run', runDir, '--guidance', draft, '--json'], io)).toBe(0);
    const result = PreviewResultSchema.parse(JSON.parse(out.join('')));
    expect(result.draft.experiences).toEqual(draftExperiences);
    const c = result.comparison;
    expect(c.baseline.label_match_rate).toBeCloseTo(matches(result.rows_current), 12);
    expect(c.candidate.label_match_rate).toBeCloseTo(matches(result.rows_draft), 12);
    expect(c.label_match_difference.estimate).toBeCloseTo(matches(result.rows_draft) - matches(result.rows_current), 12);
    const changed = result.rows_current.filter((r, i) => r.verdict !== result.rows_draft[i].verdict).map((r) => r.ticket_key);
    expect(c.changed_tickets.map((t) => t.ticket_key)).toEqual(changed);
    const config = RunConfigSchema.parse(JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')).config);
    const gate = decideGate({ baselineRows: result.rows_current, previewRows: result.rows_draft, config: config.reflection, seed: config.seed });
    expect(result.gate).toEqual({ apply: gate.apply, reason: gate.reason, why: gate.why });
    expect(c.uplift_probability).toBe(gate.uplift_probability);
  }, 600_000);

  it('refuses a draft that is not guidance, with the file named', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ experiences: { X1: 'no' } }));
    const err: string[] = [];
    const code = await main(['preview', '--config', configPath, '--guidance', bad], { stdout: { write: () => true }, stderr: { write: (s: string) => (err.push(s), true) } });
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/GUIDANCE_INVALID .*bad\.json/);
  });
});
