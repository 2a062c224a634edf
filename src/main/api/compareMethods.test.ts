import { mkdtemp, realpath, rm, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareOutput } from '../../shared/api/contract';
import type { RunComparison } from '../../shared/metrics/compareRuns';
import { main } from '../cli';
import type { CliIo } from '../cli/CliIo';
import { FsArtifactStore } from '../io/FsArtifactStore';
import { parseRunConfigText } from '../io/loadRunConfig';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { dispatchApiCall } from './dispatchApiCall';
import { fixtureSelections, writeFixtureRun } from './fixtureRun';
import { createNodeEngineLauncher } from './nodeEngineLauncher';

const MISSION = 'BBU接地线检查';
const OTHER_MISSION = '挂墙式BBU检查';
const RUN_A = { runName: 'run-a', mission: MISSION, groups: 40, candidates: 3, epochs: 2, seed: 7 };
const RUN_B = { ...RUN_A, runName: 'run-b', seed: 11 };

let base: string;
let runsRoot: string;
let workbench: WorkbenchApi;

async function ok<T>(method: string, input: unknown): Promise<T> {
  const envelope = await dispatchApiCall(workbench.handlers, method, input);
  if (!envelope.ok) throw new Error(`${method} failed: ${JSON.stringify(envelope.error)}`);
  return envelope.result as T;
}

/** `stageb compare --runs A B --json`, as a person would run it. */
async function cliCompare(dirA: string, dirB: string): Promise<RunComparison> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } };
  const code = await main(['compare', '--runs', dirA, dirB, '--json'], io);
  expect(err.join('')).toBe('');
  expect(code).toBe(0);
  return JSON.parse(out.join('')) as RunComparison;
}

const numbers = (c: Pick<RunComparison, 'overall' | 'missions'>) => ({ overall: c.overall, missions: c.missions });

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'compare-api-')));
  runsRoot = path.join(base, 'runs');
  await writeFixtureRun(runsRoot, RUN_A);
  await writeFixtureRun(runsRoot, RUN_B);
  await writeFixtureRun(runsRoot, { ...RUN_A, runName: 'run-other', mission: OTHER_MISSION, seed: 5 });
  workbench = createWorkbenchApi({
    runsRoot,
    engineLauncher: createNodeEngineLauncher({ stagebBin: path.join(base, 'none.cjs') }),
    parseConfig: parseRunConfigText,
  });
});
afterAll(async () => {
  workbench.jobs.shutdown();
  await rm(base, { recursive: true, force: true });
});

describe('compare (two runs)', () => {
  let result: CompareOutput;
  beforeAll(async () => {
    result = await ok<CompareOutput>('compare', { a: { runId: 'run-a', mission: MISSION }, b: { runId: 'run-b', mission: MISSION } });
  });

  it('has exactly the numbers `stageb compare` prints for the same two runs', async () => {
    const cli = await cliCompare(path.join(runsRoot, 'run-a'), path.join(runsRoot, 'run-b'));
    expect(numbers(result.comparison)).toEqual(numbers(cli));
    // Not vacuous: the two seeds give different verdicts.
    expect(result.comparison.overall.label_match.a.successes).not.toBe(result.comparison.overall.label_match.b.successes);
    expect(result.mission_mismatch).toBeNull();
  });

  it('lists the groups whose final verdict changed, from the selections themselves', () => {
    const finalOf = (options: typeof RUN_A) => new Map([...fixtureSelections(options)].filter((row) => row.epoch === 1).map((row) => [row.group_id, row.verdict]));
    const a = finalOf(RUN_A);
    const b = finalOf(RUN_B);
    const expected = [...a.keys()].filter((id) => a.get(id) !== b.get(id)).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(result.changed.total).toBe(expected.length);
    expect(result.changed.rows.map((row) => row.group_id).sort()).toEqual(expected);
    for (const row of result.changed.rows) {
      expect(row.a.verdict).toBe(a.get(row.group_id));
      expect(row.b.verdict).toBe(b.get(row.group_id));
    }
    expect(result.common.groups).toBe(40);
  });

  it('breaks the rates down by label and by the Stage-A categories of the run inputs', () => {
    expect(result.slices_error).toBeNull();
    expect(result.slices.filter((s) => s.kind === 'label').map((s) => s.slice)).toEqual(['fail', 'pass', 'unlabelled']);
    // The fixture's Stage-A photos: BBU设备 and 接地线 on image_1, an irrelevant image_2.
    expect(result.slices.filter((s) => s.kind === 'category').map((s) => s.slice).sort()).toEqual(['BBU设备', '接地线', '无关图片'].sort());
    const fail = result.slices.find((s) => s.kind === 'label' && s.slice === 'fail')!;
    expect(fail.row.false_release).toEqual(result.comparison.overall.false_release);
    expect(result.changed.rows[0].categories.length).toBe(3);
  });

  it('warns when the runs are of different missions', async () => {
    const other = await ok<CompareOutput>('compare', { a: { runId: 'run-a', mission: MISSION }, b: { runId: 'run-other', mission: OTHER_MISSION } });
    expect(other.mission_mismatch).toEqual({ a: MISSION, b: OTHER_MISSION });
    expect(Object.keys(other.comparison.missions).sort()).toEqual([MISSION, OTHER_MISSION].sort());
  });

  it('names a missing run in a typed error', async () => {
    const envelope = await dispatchApiCall(workbench.handlers, 'compare', { a: { runId: 'run-a', mission: MISSION }, b: { runId: 'nope', mission: MISSION } });
    expect(envelope).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND' } });
  });
});

describe('compare (two guidance steps of one run)', () => {
  it('lists the steps the run sampled with', async () => {
    const { steps } = await ok<{ steps: { step: number; groups: number; epochs: number[] }[] }>('runSteps', { runId: 'run-a', mission: MISSION });
    // fixtureRun: guidance_step = epoch * 3 for 40 groups.
    expect(steps).toEqual([
      { step: 0, groups: 40, epochs: [0] },
      { step: 3, groups: 40, epochs: [1] },
    ]);
  });

  it('compares the selections sampled at each step with the numbers `stageb compare` prints for those selections alone', async () => {
    const result = await ok<CompareOutput>('compare', { a: { runId: 'run-a', mission: MISSION, step: 0 }, b: { runId: 'run-a', mission: MISSION, step: 3 } });
    // The same selections split by step into two run directories, written by the run directory's owner.
    const all = [...fixtureSelections(RUN_A)];
    for (const [name, step] of [['step-0', 0], ['step-3', 3]] as const) {
      const store = new FsArtifactStore(path.join(base, 'split', name, MISSION));
      await store.ensureDir();
      await store.appendSelections(all.filter((row) => row.guidance_step === step));
    }
    const cli = await cliCompare(path.join(base, 'split', 'step-0'), path.join(base, 'split', 'step-3'));
    expect(numbers(result.comparison)).toEqual(numbers(cli));
    expect(result.sides.a).toMatchObject({ step: 0, name: `run-a/${MISSION} @ step 0` });
    expect(result.note).toMatch(/guidance step 0 and with step 3/);
    const epoch0 = new Map(all.filter((row) => row.epoch === 0).map((row) => [row.group_id, row.verdict]));
    const epoch1 = new Map(all.filter((row) => row.epoch === 1).map((row) => [row.group_id, row.verdict]));
    expect(result.changed.total).toBe([...epoch0.keys()].filter((id) => epoch0.get(id) !== epoch1.get(id)).length);
  });

  it('says in its note when no group was judged at both steps', async () => {
    const moved = path.join(runsRoot, 'run-b', MISSION, 'run.json');
    await rename(moved, `${moved}.away`);
    try {
      const result = await ok<CompareOutput>('compare', { a: { runId: 'run-b', mission: MISSION, step: 0 }, b: { runId: 'run-b', mission: MISSION, step: 9 } });
      expect(result.common.groups).toBe(0);
      expect(result.note).toMatch(/No group was judged by both/);
      // Without run.json the Stage-A inputs are unknown: label slices only.
      expect(result.slices.every((s) => s.kind === 'label')).toBe(true);
      expect(result.slices_error).not.toBeNull();
    } finally {
      await rename(`${moved}.away`, moved);
    }
  });
});
