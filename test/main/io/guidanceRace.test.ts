import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuidanceRepository } from '../../../src/main/io/GuidanceRepository';
import { makeGuidanceTestDir } from './guidanceTestDir';
import { prepareChildScript } from './childScript';

/**
 * An engine process (buildBatchUpdate + writeReflectionPlan, the product's apply path) and an annotator process (write with a base read
 * earlier, merge and retry on conflict) race on one guidance file through the real
 * lock file. Every successful write must own exactly one step, be based on the step
 * before it, and be exactly what the next writer saw (checked against the snapshots);
 * every losing write must have been told GUIDANCE_STEP_CONFLICT.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const writerScript = path.join(repoRoot, 'test/fixtures/guidanceRaceWriter.ts');
const MISSION = 'BBU接地线检查';
const ITERATIONS = Number(process.env.GUIDANCE_RACE_ITERATIONS ?? 600);

type Line = { role: 'engine' | 'annotator'; event: string; i?: number; j?: number; base?: number; step?: number; hash?: string; applied?: boolean; text?: string; forced?: boolean; code?: string; message?: string };

let dir: string;
let binDir: string;
let writerArgs: string[];

beforeAll(async () => {
  dir = await makeGuidanceTestDir('guidance-race-');
  binDir = await makeGuidanceTestDir('guidance-race-bin-');
  writerArgs = (await prepareChildScript(writerScript, binDir)).args;
});
afterAll(async () => {
  for (const d of [dir, binDir]) if (d) await fsp.rm(d, { recursive: true, force: true });
});

function runWriter(role: string, file: string, snapshotDir: string, seed: number): Promise<Line[]> {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, [...writerArgs, role, file, snapshotDir, String(ITERATIONS), String(seed)], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      const lines = out.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line);
      if (code !== 0) reject(new Error(`${role} exited with ${code}: ${JSON.stringify(lines.filter((l) => l.event === 'error'))} ${err}`));
      else resolve(lines);
    }),
  );
}

describe('engine and annotator racing on one guidance file', () => {
  it('loses no update and reports every lost race as GUIDANCE_STEP_CONFLICT', async () => {
    const file = path.join(dir, 'guidance.json');
    const snapshotDir = path.join(dir, 'snapshots');
    const repository = new GuidanceRepository({ path: file, mission: MISSION, snapshotDir, retention: Infinity });
    await repository.initialize({
      step: 0,
      updated_at: '2025-01-01T00:00:00.000Z',
      experiences: { G0: '检查BBU接地线是否连接到接地排。', S1: '没有照片的工单不得放行。' },
      metadata: {},
    });

    const [engine, annotator] = await Promise.all([runWriter('engine', file, snapshotDir, 11), runWriter('annotator', file, snapshotDir, 12)]);
    const lines = [...engine, ...annotator];
    expect(lines.filter((l) => l.event === 'error')).toEqual([]);
    expect(engine.at(-1)?.event).toBe('done');
    expect(annotator.at(-1)?.event).toBe('done');

    const successes = lines.filter((l) => l.event === 'success' && l.applied);
    const conflicts = lines.filter((l) => l.event === 'conflict');
    const final = await repository.read();

    // Each step 1..final was produced by exactly one successful write, based on the step before.
    const steps = successes.map((l) => l.step!).sort((a, b) => a - b);
    expect(steps).toEqual(Array.from({ length: final.step }, (_, k) => k + 1));
    for (const success of successes) expect(success.base).toBe(success.step! - 1);

    // What each writer wrote is exactly what the next writer based its write on: the
    // snapshot taken before step s + 1 holds step s with the writer's hash.
    const byStep = new Map(successes.map((l) => [l.step!, l]));
    const snapshots = await repository.listSnapshots();
    expect(snapshots).toHaveLength(final.step);
    for (const snapshot of snapshots) {
      const content = await repository.readSnapshot(snapshot.name);
      if (content.step === 0) continue;
      const writer = byStep.get(content.step)!;
      expect(content.hash).toBe(writer.hash);
      const texts = Object.values(content.experiences);
      if (writer.role === 'engine') expect(texts).toContain(writer.text);
      else expect(texts.find((text) => text.startsWith('annotator edits:'))?.split(' ')).toContain(writer.text);
    }
    expect(final.hash).toBe(byStep.get(final.step)!.hash);

    // Every annotator edit that reported success is in the final guidance.
    const edits = Object.values(final.experiences).find((text) => text.startsWith('annotator edits:'))!.split(' ').slice(2);
    const annotatorSaves = successes.filter((l) => l.role === 'annotator');
    expect(annotatorSaves).toHaveLength(ITERATIONS);
    expect(edits).toEqual(annotatorSaves.map((save) => save.text));
    expect(final.experiences.S1).toBe('没有照片的工单不得放行。');

    // A replayed plan never wrote anything.
    expect(lines.filter((l) => l.event === 'replay' && l.applied)).toEqual([]);

    const forced = conflicts.filter((l) => l.forced).length;
    expect(forced).toBe(Math.floor(ITERATIONS / 10));
    const races = successes.length + conflicts.length;
    expect(races).toBeGreaterThanOrEqual(1000);
    const engineConflicts = conflicts.filter((l) => l.role === 'engine').length;
    const annotatorConflicts = conflicts.length - engineConflicts;
    console.log(
      `guidance race test: ${races} write attempts raced (${successes.length} succeeded → step ${final.step}); ` +
        `${conflicts.length} GUIDANCE_STEP_CONFLICT reported (engine ${engineConflicts} plans dropped, annotator ${annotatorConflicts} merged and retried, ${forced} of them forced stale bases); ` +
        `${lines.filter((l) => l.event === 'replay').length} plan replays were no-ops`,
    );
  }, 600_000);
});
