import { spawn, type ChildProcess } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuidanceRepository } from '../../../src/main/io/GuidanceRepository';
import { isProcessAlive } from '../../../src/main/io/isProcessAlive';
import { parseTempName } from '../../../src/main/io/tempFiles';
import { createRng } from '../../../src/shared/random';
import { CRASH_MISSION, crashInitialState, crashStateContent } from '../../fixtures/guidanceCrashStates';
import { makeGuidanceTestDir } from './guidanceTestDir';
import { prepareChildScript } from './childScript';

/**
 * A child process writes guidance in a tight loop and is SIGKILLed at random points,
 * hundreds of times. After every kill the live file must be exactly one of the
 * writer's states, the newest snapshot its predecessor (or itself, when the kill fell
 * between snapshot and rename), and whatever was left behind (lock, tmp files) must
 * belong to a dead writer and be cleaned up by the next one.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const writerScript = path.join(repoRoot, 'test/fixtures/guidanceCrashWriter.ts');
const KILLS = Number(process.env.GUIDANCE_CRASH_KILLS ?? 220);
/** Independent writer/file pairs run side by side: spawning a process is mostly waiting. */
const LANES = 2;

let binDir: string;
let writerArgs: string[];
const dirs: string[] = [];

beforeAll(async () => {
  binDir = await makeGuidanceTestDir('guidance-crash-bin-');
  writerArgs = (await prepareChildScript(writerScript, binDir)).args;
});
afterAll(async () => {
  for (const dir of [...dirs, binDir]) if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Writer = { child: ChildProcess; started: Promise<void>; ready: Promise<void>; exited: Promise<number | null> };

function startWriter(file: string, snapshotDir: string, count?: number): Writer {
  const env = { ...process.env };
  // The writer never talks to the network; loading extra CA certificates only slows each spawn.
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, [...writerArgs, file, snapshotDir, ...(count === undefined ? [] : [String(count)])], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stderr = '';
  const waiters: { word: string; resolve: () => void }[] = [];
  child.stdout!.on('data', (chunk) => {
    out += chunk;
    for (const waiter of waiters) if (out.includes(waiter.word)) waiter.resolve();
  });
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve, reject) =>
    child.once('exit', (code, signal) => {
      for (const waiter of waiters) waiter.resolve();
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`writer exited with ${code ?? signal}: ${stderr}`));
      else resolve(code);
    }),
  );
  const waitFor = (word: string) => new Promise<void>((resolve) => waiters.push({ word, resolve }));
  return { child, started: waitFor('started'), ready: waitFor('ready'), exited };
}

type LaneStats = { kills: number; steps: number; startupKills: number; firstWriteKills: number; staleLocks: number; orphans: number; maxLeftovers: number; betweenSnapshotAndRename: number };

async function runLane(lane: number, kills: number): Promise<LaneStats> {
  const dir = await makeGuidanceTestDir(`guidance-crash-${lane}-`);
  dirs.push(dir);
  const file = path.join(dir, 'guidance.json');
  const snapshotDir = path.join(dir, 'snapshots');
  const checker = new GuidanceRepository({ path: file, mission: CRASH_MISSION, snapshotDir });
  await checker.initialize(crashInitialState());
  const rng = createRng(20250101 + lane);
  const delays = [0, 0.5, 1, 2, 3, 5, 8, 13, 21, 34];
  const stats: LaneStats = { kills: 0, steps: 0, startupKills: 0, firstWriteKills: 0, staleLocks: 0, orphans: 0, maxLeftovers: 0, betweenSnapshotAndRename: 0 };
  const killed = new Set<number>();

  const leftovers = async (): Promise<string[]> => {
    const top = (await fsp.readdir(dir)).filter((name) => name !== 'guidance.json' && name !== 'snapshots');
    const snaps = (await fsp.readdir(snapshotDir).catch(() => [] as string[])).filter((name) => !/^guidance-\d{8}-\d{6}-\d{6}\.json$/.test(name));
    return [...top, ...snaps.map((name) => `snapshots/${name}`)];
  };

  let lastStep = 0;
  for (let kill = 0; kill < kills; kill++) {
    const writer = startWriter(file, snapshotDir);
    const mode = rng();
    if (mode < 0.1) {
      stats.startupKills++;
      await sleep(rng() * 100);
    } else if (mode < 0.3) {
      // Lands in the first write: the one that has to break the stale lock of the previous kill.
      stats.firstWriteKills++;
      await writer.started;
      await sleep(rng() * 4);
    } else {
      await writer.ready;
      const base = delays[Math.floor(rng() * delays.length)];
      await sleep(base + rng() * base);
    }
    writer.child.kill('SIGKILL');
    await writer.exited;
    const pid = writer.child.pid!;
    killed.add(pid);
    stats.kills++;

    const state = await checker.read();
    expect(state.step).toBeGreaterThanOrEqual(lastStep);
    expect({ experiences: state.experiences, metadata: state.metadata }).toEqual(crashStateContent(state.step));
    lastStep = state.step;

    if (state.step > 0) {
      const snapshots = await checker.listSnapshots();
      expect(snapshots.length).toBeGreaterThan(0);
      const newest = snapshots[0];
      expect([state.step - 1, state.step]).toContain(newest.step);
      if (newest.step === state.step) stats.betweenSnapshotAndRename++;
      const content = await checker.readSnapshot(newest.name);
      expect(content.step).toBe(newest.step);
      expect({ experiences: content.experiences, metadata: content.metadata }).toEqual(crashStateContent(content.step));
    }

    const left = await leftovers();
    stats.maxLeftovers = Math.max(stats.maxLeftovers, left.length);
    for (const name of left) {
      const owner = name === 'guidance.json.lock' ? JSON.parse(await fsp.readFile(path.join(dir, name), 'utf8')).pid : (parseTempName(path.basename(name))?.pid ?? Number(name.match(/\.(\d+)\./)?.[1]));
      expect(killed.has(owner), `${name} belongs to a killed writer`).toBe(true);
      expect(isProcessAlive(owner)).toBe(false);
      if (name === 'guidance.json.lock') stats.staleLocks++;
      else stats.orphans++;
    }
  }

  // A writer that runs to completion breaks any stale lock, removes leftovers and continues the sequence.
  const finisher = startWriter(file, snapshotDir, 3);
  expect(await finisher.exited).toBe(0);
  const final = await checker.read();
  expect(final.step).toBe(lastStep + 3);
  expect({ experiences: final.experiences, metadata: final.metadata }).toEqual(crashStateContent(final.step));
  expect(await leftovers()).toEqual([]);
  stats.steps = final.step;
  return stats;
}

describe('guidance writes survive SIGKILL at random points', () => {
  it(`stays valid and exact across ${KILLS} kills`, async () => {
    const perLane = Math.ceil(KILLS / LANES);
    const lanes = await Promise.all(Array.from({ length: LANES }, (_, lane) => runLane(lane, perLane)));
    const total = lanes.reduce((sum, s) => {
      for (const key of Object.keys(sum) as (keyof LaneStats)[]) sum[key] = key === 'maxLeftovers' ? Math.max(sum[key], s[key]) : sum[key] + s[key];
      return sum;
    });
    expect(total.kills).toBeGreaterThanOrEqual(KILLS);
    // The writers made progress between kills (each lane's finisher alone writes 3).
    expect(total.steps).toBeGreaterThan(LANES * 3);
    console.log(
      `guidance crash test: ${total.kills} SIGKILLs survived in ${LANES} lanes ` +
        `(${total.startupKills} during start-up, ${total.firstWriteKills} around the first write, the rest mid-loop); ` +
        `${total.steps} steps written; ${total.staleLocks} stale locks left by a kill and broken by the next writer; ` +
        `${total.orphans} orphan tmp/pending files seen (at most ${total.maxLeftovers} at once) and cleaned; ` +
        `${total.betweenSnapshotAndRename} kills fell between snapshot and rename`,
    );
  }, 600_000);
});
