import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { readJsonl } from '../../src/main/io/jsonl';
import { ReflectionLogRecordSchema } from '../../src/shared/schemas/records';
import { GuidanceFileSchema, type GuidanceState } from '../../src/shared/schemas/guidance';
import { createRng } from '../../src/shared/random';
import { ensureTinyModelForTests } from '../helpers/tinyModel';
import { prepareChildScript } from '../main/io/childScript';
import { checkAfterKill, finalArtifacts, guidanceStatesOf, runFileSet, spawnChild } from './crashRunSupport';

/**
 * Crash safety of the engine (issue "Reliability and security" §1): the Stage-B loop
 * with reflection is SIGKILLed at random points, hundreds of times, and resumed with
 * the same config after every kill. After each kill the run directory must satisfy the
 * invariants of checkAfterKill (valid guidance in an allowed state, JSONL readable
 * with at most a reported torn tail); every run, however often it was killed, must end
 * with the same artifacts as an uninterrupted run with the same seed, timestamps aside.
 *
 * The bulk runs the real pipeline (runStageBPipeline, FsArtifactStore,
 * GuidanceRepository) with a deterministic scripted model (HashScriptedBackend); a
 * smaller set kills `node bin/stageb.js run` with the real tiny GGUF model.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KILLS = Number(process.env.ENGINE_CRASH_KILLS ?? 200);
/** After this many kills of one run, the next start is left to finish and compared. */
const KILLS_PER_RUN = 8;
const REAL_KILLS = Number(process.env.ENGINE_CRASH_REAL_KILLS ?? 10);
/** Run seed; with the demo data of DEMO_SEED it gives a run with 4 applied reflections out of 8. */
const SEED = 7;
const DEMO_SEED = 23;

let work: string;
let demo: Awaited<ReturnType<typeof ensureDemoMission>>;
let mission: string;
let initial: GuidanceState;
let childArgs: string[];

function configText(options: { modelPath: string; real: boolean }): string {
  return [
    'run_name: crash',
    `seed: ${SEED}`,
    `mission: ${mission}`,
    'stage_a_paths:',
    `  - ${JSON.stringify(demo.stageA)}`,
    'guidance:',
    `  path: ${JSON.stringify(demo.guidance)}`,
    '  max_tokens: 4096',
    'model:',
    '  backend: llama-cpp',
    `  path: ${JSON.stringify(options.modelPath)}`,
    '  context_size: 4096',
    '  threads: 1',
    `  sequences: ${process.env.ENGINE_CRASH_SEQUENCES ?? 4}`,
    // The defaults (batched decode, flash attention off on the CPU) are exact, so a resumed run must equal an uninterrupted one.
    ...(process.env.ENGINE_CRASH_BATCH_DECODE ? [`  batch_decode: ${process.env.ENGINE_CRASH_BATCH_DECODE}`] : []),
    ...(process.env.ENGINE_CRASH_FLASH_ATTENTION ? [`  flash_attention: ${process.env.ENGINE_CRASH_FLASH_ATTENTION}`] : []),
    'sampler:',
    '  candidates: 2',
    `  max_new_tokens: ${options.real ? 48 : 192}`,
    '  max_reason_chars: 20',
    'runner:',
    '  epochs: 2',
    '  batch_size: 4',
    `  max_tickets: ${options.real ? 12 : 20}`,
    'reflection:',
    '  enabled: true',
    '  holdout_fraction: 0.2',
    '  holdout_max: 4',
    '  apply_if_delta: 0',
    // This suite proves crash safety of the apply path, not the gate: the scripted model's plans
    // must be applied, so the evidence conditions and rule protection are turned off.
    '  min_uplift_probability: 0',
    '  apply_unchanged_verdicts: true',
    '  allow_holdout_without_fail: true',
    '  protected_rules: { mission_checklist: false, person_authored: false }',
    '  bootstrap_samples: 100',
    `  max_new_tokens: ${options.real ? 96 : 512}`,
    'output:',
    '  root: ./out',
    '  parquet: false',
    'stage_b_distillation:',
    '  enabled: true',
    '  export_last_if_unconverged: true',
    '',
  ].join('\n');
}

async function newRunDir(name: string, options: { modelPath: string; real: boolean }): Promise<{ config: string; runDir: string }> {
  const dir = path.join(work, name);
  await fsp.mkdir(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  await fsp.writeFile(config, configText(options));
  return { config, runDir: path.join(dir, 'out', 'crash', mission) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  // SIGKILL (unlike a power cut) loses nothing that was written, fsynced or not, so a
  // tmpfs is as good a place for these runs as a disk and spares hundreds of fsyncs.
  const base = await fsp.stat('/dev/shm').then((s) => (s.isDirectory() ? '/dev/shm' : os.tmpdir()), () => os.tmpdir());
  work = await fsp.mkdtemp(path.join(base, 'stageb-engine-crash-'));
  demo = await ensureDemoMission(path.join(work, 'demo'), DEMO_SEED, 30);
  const file = GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(demo.guidance, 'utf8')));
  mission = Object.keys(file)[0];
  initial = file[mission];
  childArgs = (await prepareChildScript(path.join(repoRoot, 'test/fixtures/reliability/scriptedStageBRun.ts'), work)).args;
});

afterAll(async () => {
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

async function runToCompletion(config: string, env: Record<string, string> = {}): Promise<void> {
  const { exited } = spawnChild([...childArgs, config], { cwd: repoRoot, env });
  const result = await exited;
  if (result.code !== 0) throw new Error(`run failed (${result.code ?? result.signal}): ${result.stderr}`);
}

describe('engine crash safety (scripted model)', () => {
  it(`survives ${KILLS} SIGKILLs with valid state, and every resumed run equals the uninterrupted one`, async () => {
    const reference = await newRunDir('reference', { modelPath: '/nonexistent/model.gguf', real: false });
    const t0 = Date.now();
    await runToCompletion(reference.config);
    const referenceMs = Date.now() - t0;
    const referenceArtifacts = await finalArtifacts(reference.runDir, mission);
    const referenceStates = await guidanceStatesOf(reference.runDir, mission);
    const referenceFiles = await runFileSet(reference.runDir, mission);
    const expectSameAsReference = async (runDir: string) => {
      expect(await finalArtifacts(runDir, mission)).toEqual(referenceArtifacts);
      // No second snapshot of a step, no second record file, no leftover temp file.
      expect(await runFileSet(runDir, mission)).toEqual(referenceFiles);
    };
    const referenceReflections = (await readJsonl(path.join(reference.runDir, 'reflection.jsonl'), ReflectionLogRecordSchema)).rows;
    const applied = referenceReflections.filter((row) => row.reflection.applied).length;
    // The run must exercise reflection writes, or the test would prove nothing about them.
    expect(applied).toBeGreaterThanOrEqual(2);
    expect(referenceStates.size).toBe(applied + 1);

    const totals = { kills: 0, applyWindowKills: 0, tornTailsReported: 0, runs: 0, starts: 0 };
    /** One lane kills and resumes its own run directories; two lanes keep both cores busy while the other waits on a spawn. */
    const lane = async (laneId: number, target: number) => {
      const rng = createRng(SEED * 100 + laneId);
      let kills = 0;
      let current: { config: string; runDir: string } | null = null;
      let killsThisRun = 0;
      while (kills < target) {
        if (!current) {
          current = await newRunDir(`crash-${laneId}-${totals.runs++}`, { modelPath: '/nonexistent/model.gguf', real: false });
          killsThisRun = 0;
        }
        if (killsThisRun >= KILLS_PER_RUN) {
          await runToCompletion(current.config);
          totals.starts++;
          await expectSameAsReference(current.runDir);
          current = null;
          continue;
        }
        const env: Record<string, string> = { RELIABILITY_DELAY_MS: String([0, 1, 3][Math.floor(rng() * 3)]) };
        // One attempt in eight dies right after a guidance write (the apply-before-log window).
        const selfKill = rng() < 0.125;
        if (selfKill) env.RELIABILITY_KILL_AFTER_GUIDANCE_WRITE = '1';
        const { child, exited } = spawnChild([...childArgs, current.config], { cwd: repoRoot, env });
        const killAt = rng() * referenceMs * 0.6;
        const timer = selfKill ? null : setTimeout(() => child.kill('SIGKILL'), killAt);
        const result = await exited;
        if (timer) clearTimeout(timer);
        totals.starts++;
        if (result.signal === 'SIGKILL') {
          kills++;
          totals.kills++;
          killsThisRun++;
          if (selfKill) totals.applyWindowKills++;
          const check = await checkAfterKill(current.runDir, mission, initial, referenceStates);
          totals.tornTailsReported += check.tornTails.length;
          // A power cut mid-append leaves a torn tail that a SIGKILL between syscalls cannot:
          // simulate one in the event log now and then, which the reader must report and the
          // next append must cut off.
          if (kills % 10 === 0) {
            const events = path.join(current.runDir, 'events.jsonl');
            const text = await fsp.readFile(events, 'utf8').catch(() => '');
            if (text.length > 2) {
              await fsp.writeFile(events, text + '{"type":"phase","ts":"2026-');
              const again = await checkAfterKill(current.runDir, mission, initial, referenceStates);
              expect(again.tornTails.map((t) => t.file)).toContain('events.jsonl');
              totals.tornTailsReported++;
            }
          }
          continue;
        }
        if (result.code !== 0) throw new Error(`resume failed (${result.code}): ${result.stderr}`);
        expect(result.stdout).toContain('done');
        await expectSameAsReference(current.runDir);
        current = null;
      }
      // The run in progress at the end is finished too and must match as well.
      if (current) {
        await runToCompletion(current.config);
        totals.starts++;
        await expectSameAsReference(current.runDir);
      }
    };
    await Promise.all([lane(0, Math.ceil(KILLS / 2)), lane(1, Math.floor(KILLS / 2))]);
    console.log(
      `[engineCrash] scripted: ${totals.kills} SIGKILLs survived (${totals.applyWindowKills} right after a guidance write), ${totals.starts} process starts, ${totals.runs} runs resumed to completion and equal to the reference (${applied} applied reflections each), ${totals.tornTailsReported} torn tails reported; uninterrupted run ${referenceMs} ms`,
    );
    const kills = totals.kills;
    expect(kills).toBeGreaterThanOrEqual(KILLS);
  }, 900_000);
});

describe('engine crash safety: a kill right after each kind of write (scripted model)', () => {
  it('after a kill right after the first and the last write of each kind, the resumed run holds exactly the uninterrupted run\'s files', async () => {
    // The uninterrupted run, with every write traced (killPoints.ts), says which writes there are.
    const reference = await newRunDir('points-reference', { modelPath: '/nonexistent/model.gguf', real: false });
    const trace = path.join(work, 'points-reference.trace');
    await runToCompletion(reference.config, { RELIABILITY_WRITE_TRACE: trace });
    const referenceArtifacts = await finalArtifacts(reference.runDir, mission);
    const referenceStates = await guidanceStatesOf(reference.runDir, mission);
    const referenceFiles = await runFileSet(reference.runDir, mission);
    expect(referenceFiles.some((name) => name.startsWith('.') || name.includes('/.'))).toBe(false);
    const counts = new Map<string, number>();
    for (const kind of (await fsp.readFile(trace, 'utf8')).split('\n').filter(Boolean)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    // Every kind of write the issue names occurs, or this test would prove nothing about it.
    for (const kind of ['snapshot', 'guidance', 'apply_intent', 'cache', 'tmp:guidance', 'tmp:snapshot', 'tmp:cache', 'tmp:apply_intent', 'atomic:run.json', 'atomic:telemetry.json',
      'append:trajectories.jsonl', 'append:selections.jsonl', 'append:reflection.jsonl', 'append:guidance_history.jsonl', 'append:events.jsonl']) {
      expect(counts.get(kind), kind).toBeGreaterThan(0);
    }
    const points = [...counts].flatMap(([kind, n]) => (n === 1 ? [`${kind}#1`] : [`${kind}#1`, `${kind}#${n}`]));

    const results: { point: string; killed: boolean; tempLeft: boolean }[] = [];
    const queue = [...points];
    const lane = async (laneId: number) => {
      for (let point = queue.shift(); point !== undefined; point = queue.shift()) {
        const target = await newRunDir(`point-${laneId}-${results.length}-${point.replace(/[^a-z0-9]+/gi, '_')}`, { modelPath: '/nonexistent/model.gguf', real: false });
        const killed = await spawnChild([...childArgs, target.config], { cwd: repoRoot, env: { RELIABILITY_KILL_AT: point } }).exited;
        expect(killed.signal, `${point}: the run must die at its kill point (${killed.stderr})`).toBe('SIGKILL');
        await checkAfterKill(target.runDir, mission, initial, referenceStates);
        const afterKill = await runFileSet(target.runDir, mission);
        const tempLeft = afterKill.some((name) => /(^|\/)\.[^/]+\.tmp-\d+-[0-9a-f]+$/.test(name));
        // A kill after a temp file is synced and before its rename leaves that temp file: the debris the resume must remove.
        if (point.startsWith('tmp:')) expect(tempLeft, `${point} leaves its temp file`).toBe(true);
        if (point.startsWith('snapshot#')) {
          const step = GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(path.join(target.runDir, 'guidance.json'), 'utf8')))[mission].step;
          expect(afterKill, `${point}: the live step is snapshotted already`).toContain(`snapshots/step-${step}`);
        }
        await runToCompletion(target.config);
        expect(await finalArtifacts(target.runDir, mission), point).toEqual(referenceArtifacts);
        expect(await runFileSet(target.runDir, mission), point).toEqual(referenceFiles);
        results.push({ point, killed: true, tempLeft });
      }
    };
    await Promise.all([lane(0), lane(1)]);
    const kinds = new Set(points.map((point) => point.slice(0, point.lastIndexOf('#'))));
    console.log(
      `[engineCrash] kill points: ${results.length} SIGKILLs right after a write (${kinds.size} kinds: ${[...kinds].sort().join(', ')}), ${results.filter((r) => r.tempLeft).length} of them leaving a temp file; every resumed run holds exactly the uninterrupted run's files`,
    );
    expect(results).toHaveLength(points.length);
  }, 600_000);
});

describe('engine crash safety (real tiny model through bin/stageb.js)', () => {
  it(`survives ${REAL_KILLS} SIGKILLs of \`stageb run\` and resumes to the uninterrupted result`, async () => {
    const modelPath = await ensureTinyModelForTests();
    const reference = await newRunDir('real-reference', { modelPath, real: true });
    const cli = path.join(repoRoot, 'bin/stageb.js');
    const t0 = Date.now();
    const ref = await spawnChild([cli, 'run', '--config', reference.config], { cwd: repoRoot }).exited;
    if (ref.code !== 0) throw new Error(`reference run failed: ${ref.stderr}${ref.stdout}`);
    const referenceMs = Date.now() - t0;
    const referenceArtifacts = await finalArtifacts(reference.runDir, mission);
    const referenceStates = await guidanceStatesOf(reference.runDir, mission);
    const referenceFiles = await runFileSet(reference.runDir, mission);

    const rng = createRng(SEED + 1);
    let kills = 0;
    let starts = 0;
    let runs = 0;
    // Kill, resume, kill again…; a start that finishes before its kill is compared with the
    // reference and the next kills go to a fresh run directory.
    while (kills < REAL_KILLS) {
      const target = await newRunDir(`real-crash-${runs++}`, { modelPath, real: true });
      for (;;) {
        const { child, exited } = spawnChild([cli, 'run', '--config', target.config], { cwd: repoRoot });
        starts++;
        const timer = kills < REAL_KILLS ? setTimeout(() => child.kill('SIGKILL'), 300 + rng() * referenceMs) : null;
        const result = await exited;
        if (timer) clearTimeout(timer);
        if (result.signal === 'SIGKILL') {
          kills++;
          await checkAfterKill(target.runDir, mission, initial, referenceStates);
          continue;
        }
        if (result.code !== 0) throw new Error(`resume failed (${result.code}): ${result.stderr}${result.stdout}`);
        break;
      }
      expect(await finalArtifacts(target.runDir, mission)).toEqual(referenceArtifacts);
      expect(await runFileSet(target.runDir, mission)).toEqual(referenceFiles);
    }
    console.log(`[engineCrash] real tiny model: ${kills} SIGKILLs survived over ${starts} starts of stageb run in ${runs} run(s); final artifacts equal the uninterrupted run (reference took ${referenceMs} ms)`);
    expect(kills).toBeGreaterThanOrEqual(REAL_KILLS);
  }, 600_000);
});
