import { spawn, type ChildProcess } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { readJsonl, type TornTail } from '../../src/main/io/jsonl';
import { GuidanceFileSchema, GuidanceHistoryEntrySchema, type GuidanceState } from '../../src/shared/schemas/guidance';
import {
  DistillRecordSchema,
  ExportRowSchema,
  NeedReviewRecordSchema,
  ReflectionLogRecordSchema,
  SelectionRecordSchema,
  TrajectoryRecordSchema,
} from '../../src/shared/schemas/records';
import { RunEventSchema, RunManifestSchema, TelemetrySchema } from '../../src/shared/schemas/telemetry';
import { BatchUpdateArtifactSchema } from '../../src/main/engine/reflection/reflectionArtifacts';

/** Shared by the crash tests: child processes, the after-kill invariants and the artifact comparison. */

export const JSONL_SCHEMAS: Record<string, z.ZodType<unknown>> = {
  'trajectories.jsonl': TrajectoryRecordSchema,
  'selections.jsonl': SelectionRecordSchema,
  'reflection.jsonl': ReflectionLogRecordSchema,
  'guidance_history.jsonl': GuidanceHistoryEntrySchema,
  'events.jsonl': RunEventSchema,
  'need_review.jsonl': NeedReviewRecordSchema,
  'export/verdicts.jsonl': ExportRowSchema,
  'distill_chatml.jsonl': DistillRecordSchema,
};

const JSON_SCHEMAS: Record<string, z.ZodType<unknown>> = {
  'run.json': RunManifestSchema,
  'telemetry.json': TelemetrySchema,
};

export type Child = { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> };

/** Starts `node args…`, optionally behind a wrapper command (`prefix`, e.g. setpriv to drop privileges). */
export function spawnChild(args: string[], options: { cwd: string; env?: Record<string, string>; prefix?: string[] }): Child {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const [command, ...rest] = [...(options.prefix ?? []), process.execPath, ...args];
  const child = spawn(command, rest, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited };
}

async function exists(file: string): Promise<boolean> {
  return fsp.stat(file).then(
    () => true,
    () => false,
  );
}

/** step → experiences (canonical JSON) for every guidance state a run directory holds: live file + snapshots. */
export async function guidanceStatesOf(runDir: string, mission: string): Promise<Map<number, string>> {
  const states = new Map<number, string>();
  const add = (state: GuidanceState) => states.set(state.step, JSON.stringify(state.experiences));
  const live = GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(path.join(runDir, 'guidance.json'), 'utf8')));
  add(live[mission]);
  const snapshotDir = path.join(runDir, 'snapshots');
  for (const name of (await exists(snapshotDir)) ? await fsp.readdir(snapshotDir) : []) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    add(GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(path.join(snapshotDir, name), 'utf8')))[mission]);
  }
  return states;
}

export type KillCheck = { tornTails: { file: string; tail: TornTail }[]; guidanceStep: number };

/**
 * The invariants that must hold after any SIGKILL:
 * 1. guidance.json parses against GuidanceFileSchema, and its state (step, experiences)
 *    is an allowed state: the initial guidance (step 0), a state kept in snapshots/, or
 *    the post-apply state of a reflection — step = batch_update.guidance_step + 1 with the
 *    experiences of that batch_update artifact's preview_guidance — AND it equals the state
 *    the uninterrupted reference run had at that step (`referenceStates`).
 * 2. every snapshot parses, and snapshot steps are all below the live step.
 * 3. every JSONL log reads with readJsonl: a torn last line is tolerated and reported; any
 *    other malformed or schema-invalid line throws (fails the test).
 * 4. every atomically written JSON (run.json, telemetry.json, reflection_cache/*.json) parses.
 */
export async function checkAfterKill(runDir: string, mission: string, initial: GuidanceState, referenceStates: Map<number, string>): Promise<KillCheck> {
  const tornTails: KillCheck['tornTails'] = [];
  const guidanceFile = path.join(runDir, 'guidance.json');
  let guidanceStep = 0;
  if (await exists(guidanceFile)) {
    const live = GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(guidanceFile, 'utf8')))[mission];
    if (!live) throw new Error(`guidance.json lacks mission ${mission}`);
    guidanceStep = live.step;
    const experiences = JSON.stringify(live.experiences);
    const allowed = new Set<string>([`0|${JSON.stringify(initial.experiences)}`]);
    const states = await guidanceStatesOf(runDir, mission);
    for (const [step, exp] of states) if (step !== live.step) allowed.add(`${step}|${exp}`);
    const cacheDir = path.join(runDir, 'reflection_cache');
    for (const name of (await exists(cacheDir)) ? await fsp.readdir(cacheDir) : []) {
      if (!name.endsWith('_batch_update.json')) continue;
      const update = BatchUpdateArtifactSchema.parse(JSON.parse(await fsp.readFile(path.join(cacheDir, name), 'utf8')));
      allowed.add(`${update.guidance_step + 1}|${JSON.stringify(update.preview_guidance.experiences)}`);
    }
    if (!allowed.has(`${live.step}|${experiences}`)) throw new Error(`guidance.json step ${live.step} is in no allowed state: ${experiences}`);
    if (referenceStates.get(live.step) !== experiences) {
      throw new Error(`guidance.json step ${live.step} differs from the reference run's step ${live.step}: ${experiences} vs ${referenceStates.get(live.step)}`);
    }
    for (const [step] of states) if (step > live.step) throw new Error(`snapshot step ${step} is newer than the live step ${live.step}`);
  }
  for (const [name, schema] of Object.entries(JSONL_SCHEMAS)) {
    const file = path.join(runDir, name);
    if (!(await exists(file))) continue;
    const { tornTail } = await readJsonl(file, schema, { tolerateTornTail: true });
    if (tornTail) tornTails.push({ file: name, tail: tornTail });
  }
  for (const [name, schema] of Object.entries(JSON_SCHEMAS)) {
    const file = path.join(runDir, name);
    if (await exists(file)) schema.parse(JSON.parse(await fsp.readFile(file, 'utf8')));
  }
  const cacheDir = path.join(runDir, 'reflection_cache');
  for (const name of (await exists(cacheDir)) ? await fsp.readdir(cacheDir) : []) {
    if (name.endsWith('.json')) JSON.parse(await fsp.readFile(path.join(cacheDir, name), 'utf8'));
  }
  return { tornTails, guidanceStep };
}

/** Fields that differ between two runs of the same seed by construction: wall-clock stamps, and how a cached stage was obtained. */
const VOLATILE_KEYS = new Set(['created_at', 'recorded_at', 'updated_at', 'ts', 'finished_at', 'started_at']);

export function stripVolatile(value: unknown, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => stripVolatile(item, parentKey));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (VOLATILE_KEYS.has(key)) continue;
    // debug_info.stages says "generated" or "reused": a resumed run reuses the cache by design.
    if (parentKey === 'debug_info' && key === 'stages') continue;
    out[key] = stripVolatile(inner, key);
  }
  return out;
}

/** The final artifacts the issue names, timestamps stripped, for equality with the reference run. */
export async function finalArtifacts(runDir: string, mission: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of ['trajectories.jsonl', 'selections.jsonl', 'reflection.jsonl', 'export/verdicts.jsonl', 'distill_chatml.jsonl', 'guidance_history.jsonl', 'need_review.jsonl']) {
    const { rows, tornTail } = await readJsonl(path.join(runDir, name), JSONL_SCHEMAS[name], { tolerateTornTail: true });
    if (tornTail) throw new Error(`${name} of a completed run has a torn tail`);
    out[name] = stripVolatile(rows);
  }
  const guidance = GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(path.join(runDir, 'guidance.json'), 'utf8')))[mission];
  out['guidance.json'] = stripVolatile({ step: guidance.step, experiences: guidance.experiences, metadata: guidance.metadata });
  return out;
}

/**
 * Every file of a run directory, as relative paths (dot files included, so a leftover temp
 * file shows), with snapshots named by the step they hold (`snapshots/<step>`; their file
 * names are wall-clock times). Two runs that hold the same files give the same list; a
 * second snapshot of a step shows as a duplicate entry.
 */
export async function runFileSet(runDir: string, mission: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        await walk(path.join(dir, entry.name), rel);
      } else if (prefix === 'snapshots' && !entry.name.startsWith('.')) {
        const state = GuidanceFileSchema.parse(JSON.parse(await fsp.readFile(path.join(dir, entry.name), 'utf8')))[mission];
        out.push(`snapshots/step-${state.step}`);
      } else {
        out.push(rel);
      }
    }
  };
  await walk(runDir, '');
  return out.sort();
}
