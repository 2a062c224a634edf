import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { StageBError } from '../../shared/errors';
import type { ApiOutput, ApiParsedInput } from '../../shared/api/contract';
import { experiencesHash } from '../../shared/guidance/experiencesHash';
import { listAttributionSteps, readAttribution } from '../io/attributionFiles';
import { readPreviewResult, writePreviewDraft } from '../io/previewFiles';
import type { ApiContext } from './ApiContext';
import { guidanceFor } from './guidanceMethods';
import { RUN_FILES, resolveMissionDir } from './runDirectory';

/**
 * Attribution and preview as workbench jobs: the engine host measures guidance on the
 * run's holdout (`stageb attribute|preview --run <dir> --events-json`), in its own
 * process, with progress events and cancel like a run; results are files in the run
 * directory (attribution/, preview/) that these methods read back.
 */

async function measurableRunDir(ctx: ApiContext, runId: string, mission: string): Promise<string> {
  const dir = await resolveMissionDir(ctx.runsRoot, runId, mission);
  const manifest = await stat(path.join(dir, RUN_FILES.manifest)).then((s) => s.isFile(), () => false);
  if (!manifest) throw new StageBError('API_NOT_FOUND', `run ${runId}/${mission} has no ${RUN_FILES.manifest}: it never started, so it has no config or holdout to measure on`, { file: path.join(runId, mission, RUN_FILES.manifest) });
  return dir;
}

function runningJobFor(ctx: ApiContext, kind: 'attribution', runId: string, mission: string): string | null {
  const job = ctx.jobs.list().find((j) => j.kind === kind && j.run?.runId === runId && j.run.mission === mission && (j.status === 'running' || j.status === 'starting'));
  return job?.jobId ?? null;
}

export async function attributionStart(ctx: ApiContext, input: ApiParsedInput<'attributionStart'>): Promise<ApiOutput<'attributionStart'>> {
  const dir = await measurableRunDir(ctx, input.runId, input.mission);
  // One attribution per run at a time: a second click follows the one already running.
  const running = runningJobFor(ctx, 'attribution', input.runId, input.mission);
  if (running) return { jobId: running };
  const jobId = ctx.jobs.start('attribution', dir, { run: { runId: input.runId, mission: input.mission }, extraArgs: input.force ? ['--force'] : [] });
  return { jobId };
}

export async function attributionResult(ctx: ApiContext, input: ApiParsedInput<'attributionResult'>): Promise<ApiOutput<'attributionResult'>> {
  const { missionDir, guidance } = await guidanceFor(ctx, input.runId, input.mission);
  const current = await guidance.read();
  const step = input.step ?? current.step;
  const [steps, result] = await Promise.all([listAttributionSteps(missionDir), readAttribution(missionDir, step)]);
  // Stale only for the current step: older steps' texts are what they were when measured.
  const stale = result !== null && step === current.step && result.experiences_hash !== experiencesHash(current.experiences);
  return { current_step: current.step, steps, result, stale };
}

export async function previewStart(ctx: ApiContext, input: ApiParsedInput<'previewStart'>): Promise<ApiOutput<'previewStart'>> {
  const dir = await measurableRunDir(ctx, input.runId, input.mission);
  const jobId = randomUUID();
  const draftPath = await writePreviewDraft(dir, jobId, { experiences: input.draft.experiences, ...(input.draft.metadata ? { metadata: input.draft.metadata } : {}) });
  ctx.jobs.start('preview', dir, { jobId, run: { runId: input.runId, mission: input.mission }, extraArgs: ['--guidance', draftPath, '--id', jobId] });
  return { jobId };
}

export async function previewResult(ctx: ApiContext, input: ApiParsedInput<'previewResult'>): Promise<ApiOutput<'previewResult'>> {
  const dir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  return { result: await readPreviewResult(dir, input.jobId) };
}
