import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkbenchApi } from '../../src/main/api/createWorkbenchApi';
import { dispatchApiCall } from '../../src/main/api/dispatchApiCall';
import type { EngineLauncher } from '../../src/main/api/JobRunner';
import { GuidanceRepository, openRunGuidance } from '../../src/main/io/GuidanceRepository';
import { parseRunConfigText } from '../../src/main/io/loadRunConfig';
import { GuidanceFileSchema, type GuidanceState } from '../../src/shared/schemas/guidance';
import type { GuidanceWriteResult } from '../../src/shared/api/contract';
import { createRng } from '../../src/shared/random';
import { prepareChildScript } from '../main/io/childScript';
import { spawnChild } from './crashRunSupport';

/**
 * Concurrency (issue §5 "Reliability and security" §2): an annotator saving through the
 * workbench API (guidanceSave, in this process) and the engine applying reflection plans
 * (the product's apply path, buildBatchUpdate + writeReflectionPlan, in a child process) on one guidance file, at least 1000
 * writes interleaved. No update may be lost — the history of the file (every snapshot
 * plus the live file, retention unlimited) is one chain in which every step changes
 * exactly one side's experience to that side's next edit, every edit of both sides
 * appears, in order, exactly once — and every conflict must be reported: a save that
 * did not land returns status 'conflict' with base/theirs/mine, never 'ok'.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MISSION = 'BBU接地线检查';
const ENGINE_APPLIES = Number(process.env.API_RACE_ENGINE ?? 500);
const ANNOTATOR_SAVES = Number(process.env.API_RACE_ANNOTATOR ?? 500);

let root: string;
beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-api-race-'));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

const noEngine: EngineLauncher = () => {
  throw new Error('the race test starts no runs');
};

describe('annotator (workbench API) vs engine (child process) on one guidance file', () => {
  it(`${ENGINE_APPLIES} engine applies and ${ANNOTATOR_SAVES} annotator saves interleave with no lost update and every conflict reported`, async () => {
    const missionDir = path.join(root, 'runs', 'race', MISSION);
    await fsp.mkdir(missionDir, { recursive: true });
    const guidanceFile = path.join(missionDir, 'guidance.json');
    const snapshotDir = path.join(missionDir, 'snapshots');
    await new GuidanceRepository({ path: guidanceFile, mission: MISSION, snapshotDir }).initialize({
      step: 0,
      updated_at: '2026-01-01T00:00:00.000Z',
      experiences: { G0: '任务：检查BBU接地线', G1: '接地线应走线整齐', G2: 'engine rule -1', G3: 'annotator edit -1' },
      metadata: {},
    });
    const api = createWorkbenchApi({
      runsRoot: path.join(root, 'runs'),
      engineLauncher: noEngine,
      // Unlimited retention so that the whole history can be checked afterwards.
      openGuidance: (run) => openRunGuidance({ ...run, retention: Infinity, lock: { timeoutMs: 60_000 } }),
      parseConfig: (text, label) => parseRunConfigText(text, label),
    });

    const childArgs = (await prepareChildScript(path.join(repoRoot, 'test/fixtures/reliability/engineApplyChild.ts'), root)).args;
    const engine = spawnChild([...childArgs, guidanceFile, snapshotDir, MISSION, String(ENGINE_APPLIES), '7'], { cwd: repoRoot });

    const rng = createRng(11);
    const annotatorOk: { j: number; step: number }[] = [];
    let annotatorConflicts = 0;
    let engineDone = false;
    void engine.exited.then(() => (engineDone = true));
    // Start saving once the engine is running, so that the two really overlap.
    await new Promise<void>((resolve) => {
      engine.child.stdout!.once('data', () => resolve());
      void engine.exited.then(() => resolve());
    });
    for (let j = 0; j < ANNOTATOR_SAVES; j++) {
      for (let attempt = 0; ; attempt++) {
        const read = await dispatchApiCall(api.handlers, 'guidanceRead', { runId: 'race', mission: MISSION });
        if (!read.ok) throw new Error(`guidanceRead failed: ${JSON.stringify(read.error)}`);
        const { state, hash } = read.result as { state: GuidanceState; hash: string };
        // Think time, so that engine applies land between the read and the save.
        if (!engineDone && rng() < 0.7) await new Promise((resolve) => setTimeout(resolve, Math.floor(rng() * 4)));
        const mine = { ...state.experiences, G3: `annotator edit ${j}` };
        const saved = await dispatchApiCall(api.handlers, 'guidanceSave', { runId: 'race', mission: MISSION, baseStep: state.step, baseHash: hash, experiences: mine });
        if (!saved.ok) throw new Error(`guidanceSave failed: ${JSON.stringify(saved.error)}`);
        const result = saved.result as GuidanceWriteResult;
        if (result.status === 'ok') {
          expect(result.state.step).toBe(state.step + 1);
          expect(result.state.experiences.G3).toBe(`annotator edit ${j}`);
          annotatorOk.push({ j, step: result.state.step });
          // The annotator reads the result before the next edit: lets the engine's waiting apply in.
          if (!engineDone) await new Promise((resolve) => setTimeout(resolve, 3 + Math.floor(rng() * 12)));
          break;
        }
        // A conflict is reported with all three sides.
        annotatorConflicts++;
        expect(result.error.code).toBe('GUIDANCE_STEP_CONFLICT');
        expect(result.theirs.step).toBeGreaterThan(state.step);
        expect(result.mine.experiences).toEqual(mine);
        if (result.base) expect(result.base.step).toBe(state.step);
        if (attempt > 2000) throw new Error('annotator starved');
      }
    }
    const engineResult = await engine.exited;
    expect(engineResult.code, engineResult.stderr + engineResult.stdout.slice(-2000)).toBe(0);
    const events = engineResult.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; i?: number; step?: number; applied?: boolean });
    expect(events[0].event).toBe('ready');
    const engineApplied = events.filter((e) => e.event === 'applied');
    const engineConflicts = events.filter((e) => e.event === 'conflict').length;
    expect(engineApplied.map((e) => e.i)).toEqual(Array.from({ length: ENGINE_APPLIES }, (_, i) => i));
    expect(engineApplied.every((e) => e.applied)).toBe(true);

    // The whole history: snapshots (every replaced state) + the live file.
    const byStep = new Map<number, GuidanceState>();
    for (const name of await fsp.readdir(snapshotDir)) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const state = GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(path.join(snapshotDir, name), 'utf8')))[MISSION];
      expect(byStep.has(state.step), `two snapshots of step ${state.step}`).toBe(false);
      byStep.set(state.step, state);
    }
    const live = GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(guidanceFile, 'utf8')))[MISSION];
    byStep.set(live.step, live);
    const total = ENGINE_APPLIES + ANNOTATOR_SAVES;
    expect(live.step).toBe(total);
    let engineNext = 0;
    let annotatorNext = 0;
    const stepOf = { engine: new Map<number, number>(), annotator: new Map<number, number>() };
    for (let step = 1; step <= total; step++) {
      const before = byStep.get(step - 1)!;
      const after = byStep.get(step)!;
      expect(before, `step ${step - 1} missing from the history`).toBeDefined();
      expect(after, `step ${step} missing from the history`).toBeDefined();
      const changed = Object.keys({ ...before.experiences, ...after.experiences }).filter((k) => before.experiences[k] !== after.experiences[k]);
      // Exactly one side's edit per step, and it is that side's next edit: nothing skipped, nothing undone.
      expect(changed.length, `step ${step} changed ${changed.join(',')}`).toBe(1);
      if (changed[0] === 'G2') {
        expect(after.experiences.G2).toBe(`engine rule ${engineNext}`);
        stepOf.engine.set(engineNext++, step);
      } else {
        expect(changed[0]).toBe('G3');
        expect(after.experiences.G3).toBe(`annotator edit ${annotatorNext}`);
        stepOf.annotator.set(annotatorNext++, step);
      }
    }
    expect(engineNext).toBe(ENGINE_APPLIES);
    expect(annotatorNext).toBe(ANNOTATOR_SAVES);
    // What each side was told matches where its edit landed.
    for (const e of engineApplied) expect(stepOf.engine.get(e.i!)).toBe(e.step);
    for (const a of annotatorOk) expect(stepOf.annotator.get(a.j)).toBe(a.step);
    // Interleaving really happened: the sides alternate many times in the history.
    let switches = 0;
    let last = '';
    let sequence = '';
    for (let step = 1; step <= total; step++) {
      const side = byStep.get(step)!.experiences.G2 !== byStep.get(step - 1)!.experiences.G2 ? 'engine' : 'annotator';
      sequence += side[0];
      if (side !== last) switches++;
      last = side;
    }
    if (process.env.API_RACE_DEBUG) console.log(sequence);
    console.log(`[apiRace] ${total} writes (${ENGINE_APPLIES} engine applies, ${ANNOTATOR_SAVES} API saves), ${switches} side switches in the history, conflicts reported: annotator ${annotatorConflicts}, engine ${engineConflicts}; no update lost`);
    expect(annotatorConflicts + engineConflicts).toBeGreaterThan(0);
    expect(switches).toBeGreaterThan(100);
  }, 600_000);
});
