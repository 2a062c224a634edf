import { apiCalls } from '../../../test/helpers/apiCalls';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GuidancePort } from '../engine/ports/GuidancePort';
import { openRunGuidance } from '../io/GuidanceRepository';
import { RUN_FILES } from '../../shared/runFiles';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { writeFixtureRun } from './fixtureRun';

const MISSION = 'BBU接地线检查';
const REF = { runId: 'run-port', mission: MISSION };

let root: string;
let missionDir: string;
let api: WorkbenchApi;
/** Every call the API made on the guidance ports it opened, in order. */
let calls: string[];

/** The run's real guidance port, recording the calls made on it. */
function recorded(port: GuidancePort): GuidancePort {
  const record = <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) => (...args: A) => {
    calls.push(name);
    return fn(...args);
  };
  return {
    read: record('read', () => port.read()),
    write: record('write', (next, baseStep, options) => port.write(next, baseStep, options)),
    rollback: record('rollback', (snapshot, baseStep, options) => port.rollback(snapshot, baseStep, options)),
    listSnapshots: record('listSnapshots', () => port.listSnapshots()),
    readSnapshot: record('readSnapshot', (name) => port.readSnapshot(name)),
  };
}

const { ok } = apiCalls(() => api);

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'stageb-guidance-port-'));
  missionDir = await writeFixtureRun(root, { runName: REF.runId, mission: MISSION, groups: 4, candidates: 2, epochs: 1 });
  calls = [];
  api = createWorkbenchApi({
    runsRoot: root,
    engineLauncher: () => {
      throw new Error('no engine in this test');
    },
    parseConfig: () => ({ config: {} }),
    openGuidance: (run) => recorded(openRunGuidance(run)),
  });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the workbench API reads and changes guidance only through the guidance port', () => {
  it('lists snapshots as the port lists them: a broken one with step null, a stray file not at all', async () => {
    const port = openRunGuidance({ missionDir, mission: MISSION });
    const [newest] = await port.listSnapshots();
    await writeFile(path.join(missionDir, RUN_FILES.snapshots, newest.name), 'not json');
    await writeFile(path.join(missionDir, RUN_FILES.snapshots, 'notes.json'), '{}');
    const { snapshots } = await ok('listSnapshots', REF);
    expect(snapshots).toEqual(await port.listSnapshots());
    expect(snapshots.map((s: { step: number | null }) => s.step)).toEqual([null, 0]);
    expect(calls).toEqual(['listSnapshots']);
  });

  it('reads, saves, reads a snapshot and rolls back through the port, and answers a stale save with base, theirs and mine', async () => {
    const { state, hash } = await ok('guidanceRead', REF);
    const mine = { ...state.experiences, G1: '接地线必须可见。' };
    expect(await ok('guidanceSave', { ...REF, baseStep: state.step, baseHash: hash, experiences: mine })).toMatchObject({ status: 'ok', state: { step: state.step + 1 } });
    const stale = await ok('guidanceSave', { ...REF, baseStep: state.step, experiences: { ...state.experiences, G1: 'late' } });
    expect(stale).toMatchObject({ status: 'conflict', base: { step: state.step, experiences: state.experiences }, theirs: { step: state.step + 1, experiences: mine } });
    const [, oldest] = (await ok('listSnapshots', REF)).snapshots.slice(-2);
    const snapshot = await ok('readSnapshot', { ...REF, name: oldest.name });
    expect(snapshot.state.step).toBe(oldest.step);
    const rolled = await ok('guidanceRollback', { ...REF, snapshot: oldest.name, baseStep: state.step + 1 });
    expect(rolled).toMatchObject({ status: 'ok', state: { step: state.step + 2, experiences: snapshot.state.experiences, written_by: { kind: 'rollback', restored_snapshot: oldest.name } } });
    expect(new Set(calls)).toEqual(new Set(['read', 'write', 'listSnapshots', 'readSnapshot', 'rollback']));
  });
});
