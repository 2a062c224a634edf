import { spawn, type ChildProcess } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuidanceRepository } from '../../../src/main/io/GuidanceRepository';
import { isProcessAlive } from '../../../src/main/io/isProcessAlive';
import { createRng } from '../../../src/shared/random';
import { CRASH_MISSION, crashInitialState, crashStateContent } from '../../fixtures/guidanceCrashStates';
import { makeGuidanceTestDir } from './guidanceTestDir';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const writerScript = path.join(repoRoot, 'test/fixtures/guidanceCrashWriter.ts');
const KILLS = 220;

let dir: string;
let file: string;
let snapshotDir: string;

beforeAll(async () => {
  dir = await makeGuidanceTestDir('guidance-crash-');
  file = path.join(dir, 'guidance.json');
  snapshotDir = path.join(dir, 'snapshots');
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function startWriter(count?: number): { child: ChildProcess; ready: Promise<void>; exited: Promise<number | null> } {
  const args = ['--import', 'tsx', writerScript, file, snapshotDir, ...(count === undefined ? [] : [String(count)])];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const ready = new Promise<void>((resolve) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('ready')) resolve();
    });
    child.once('exit', () => resolve());
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}: ${stderr}`));
      resolve(code);
    }),
  );
  let reject: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, r) => (reject = r));
  failed.catch(() => undefined);
  return { child, ready, exited: Promise.race([exited, failed]) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything under the run directory that is not the live file, a snapshot or the snapshot folder. */
async function leftovers(): Promise<string[]> {
  const top = (await fsp.readdir(dir)).filter((name) => name !== 'guidance.json' && name !== 'snapshots');
  const snaps = (await fsp.readdir(snapshotDir).catch(() => [] as string[])).filter((name) => !/^guidance-\d{8}-\d{6}-\d{6}\.json$/.test(name));
  return [...top, ...snaps.map((name) => `snapshots/${name}`)];
}

describe('guidance writes survive SIGKILL at random points', () => {
  it(`stays valid and exact across ${KILLS} kills`, async () => {
    const checker = new GuidanceRepository({ path: file, mission: CRASH_MISSION, snapshotDir });
    await checker.initialize(crashInitialState());
    const rng = createRng(20250101);
    const delays = [0, 0.5, 1, 2, 3, 5, 8, 13, 21, 34];
    let lastStep = 0;
    let staleLocks = 0;
    let orphanFiles = 0;
    let killedBetweenSnapshotAndRename = 0;
    let earlyKills = 0;
    let maxLeftovers = 0;
    const killed = new Set<number>();

    for (let kill = 0; kill < KILLS; kill++) {
      const writer = startWriter();
      if (rng() < 0.1) {
        // Sometimes kill during start-up, before the first write.
        earlyKills++;
        await sleep(rng() * 200);
      } else {
        await writer.ready;
        const base = delays[Math.floor(rng() * delays.length)];
        await sleep(base + rng() * base);
      }
      writer.child.kill('SIGKILL');
      await writer.exited;
      const pid = writer.child.pid!;

      // The live file parses, validates and is exactly one of the writer's states.
      const state = await checker.read();
      expect(state.step).toBeGreaterThanOrEqual(lastStep);
      expect({ experiences: state.experiences, metadata: state.metadata }).toEqual(crashStateContent(state.step));
      lastStep = state.step;

      // The newest snapshot is the previous state, or the current one when the kill fell
      // between the snapshot and the rename.
      const snapshots = await checker.listSnapshots();
      if (state.step > 0) {
        expect(snapshots.length).toBeGreaterThan(0);
        const newest = snapshots[0];
        expect([state.step - 1, state.step]).toContain(newest.step);
        if (newest.step === state.step) killedBetweenSnapshotAndRename++;
        const content = await checker.readSnapshot(newest.name);
        expect({ experiences: content.experiences, metadata: content.metadata }).toEqual(crashStateContent(newest.step));
      }

      // Anything else left behind (a lock, a tmp file, a pending lock) belongs to a killed
      // writer, never to a live one; the next writer that gets the lock removes it.
      killed.add(pid);
      const left = await leftovers();
      maxLeftovers = Math.max(maxLeftovers, left.length);
      for (const name of left) {
        const owner = name === 'guidance.json.lock' ? JSON.parse(await fsp.readFile(path.join(dir, name), 'utf8')).pid : Number(name.match(/\.(\d+)\./)?.[1]);
        expect(killed.has(owner), `${name} belongs to a killed writer`).toBe(true);
        expect(isProcessAlive(owner)).toBe(false);
        if (name === 'guidance.json.lock') staleLocks++;
        else orphanFiles++;
      }
    }

    // A writer that runs to completion breaks any stale lock, cleans up and continues the sequence.
    const finisher = startWriter(3);
    expect(await finisher.exited).toBe(0);
    const final = await checker.read();
    expect(final.step).toBe(lastStep + 3);
    expect({ experiences: final.experiences, metadata: final.metadata }).toEqual(crashStateContent(final.step));
    expect(await leftovers()).toEqual([]);
    // The writers made progress between kills (not a timing assertion: it only needs one write in total).
    expect(final.step).toBeGreaterThan(3);

    console.log(
      `guidance crash test: ${KILLS} SIGKILLs survived (${earlyKills} during start-up), ${lastStep} steps written, ` +
        `${staleLocks} stale locks seen after a kill, ${orphanFiles} orphan tmp/pending files seen (at most ${maxLeftovers} at once), ` +
        `${killedBetweenSnapshotAndRename} kills between snapshot and rename`,
    );
  }, 300_000);
});
