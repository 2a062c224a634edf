import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiMethod, ApiOutput } from '../../src/shared/api/contract';
import { dispatchApiCall } from '../../src/main/api/dispatchApiCall';
import { createDefaultWorkbenchApi } from '../../src/main/api/createDefaultWorkbenchApi';
import type { WorkbenchApi } from '../../src/main/api/createWorkbenchApi';
import { GuidanceFileSchema } from '../../src/shared/schemas/guidance';
import { finishedTinyRun } from './holdoutStudyFixture';

/**
 * Attribution and preview as workbench jobs through the real engine host
 * (`node bin/stageb.js attribute|preview --run <dir> --events-json` in a child
 * process) on a finished tiny-model run: progress events, results read back, cancel.
 */
const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let dir: string;
let runDir: string;
let workbench: WorkbenchApi;
const events: ApiEvent[] = [];
let ref: { runId: string; mission: string };

async function ok<M extends ApiMethod>(method: M, input: unknown): Promise<ApiOutput<M>> {
  const envelope = await dispatchApiCall(workbench.handlers, method, input);
  if (!envelope.ok) throw new Error(`${method} failed: ${JSON.stringify(envelope.error)}`);
  return envelope.result as ApiOutput<M>;
}

async function waitForStatus(jobId: string, status: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (events.some((e) => e.type === 'job_status' && e.jobId === jobId && e.status === status)) return;
    const failed = events.find((e) => e.type === 'job_status' && e.jobId === jobId && (e.status === 'failed' || e.status === 'cancelled' || e.status === 'completed'));
    if (failed && failed.type === 'job_status' && failed.status !== status) {
      const log = events.filter((e) => e.type === 'job_log' && e.jobId === jobId).map((e) => (e.type === 'job_log' ? e.line : '')).join('\n');
      throw new Error(`job ${jobId} ended ${failed.status} (wanted ${status}): ${JSON.stringify(failed.error)}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${jobId} never reached ${status}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stageb-holdout-jobs-'));
  ({ runDir } = await finishedTinyRun(dir, 'jobs'));
  ref = { runId: basename(dirname(runDir)), mission: basename(runDir) };
  workbench = createDefaultWorkbenchApi({ runsRoot: join(dir, 'runs'), projectRoot: PROJECT_ROOT });
  workbench.events.subscribe((event) => events.push(event));
}, 600_000);

afterAll(async () => {
  workbench.jobs.shutdown();
  await rm(dir, { recursive: true, force: true });
});

describe('attribution and preview as workbench jobs', () => {
  it('attributionStart runs in the engine process with progress; attributionResult reads the step back', async () => {
    expect(await ok('attributionResult', ref)).toEqual({ current_step: 0, steps: [], result: null, stale: false });
    const { jobId } = await ok('attributionStart', ref);
    await waitForStatus(jobId, 'completed');
    const progress = events.filter((e) => e.type === 'run_event' && e.jobId === jobId && e.event.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    const last = progress.at(-1)!;
    expect(last.type === 'run_event' && last.event.type === 'progress' && last.event.groups_done === last.event.groups_total).toBe(true);
    const { jobs } = await ok('listJobs', {});
    expect(jobs.find((j) => j.jobId === jobId)).toMatchObject({ kind: 'attribution', run: ref, status: 'completed', exit_code: 0 });

    const read = await ok('attributionResult', ref);
    expect(read.steps).toEqual([0]);
    expect(read.stale).toBe(false);
    const guidance = Object.values(GuidanceFileSchema.parse(JSON.parse(await readFile(join(runDir, 'guidance.json'), 'utf8'))))[0];
    expect(read.result?.rules.map((r) => r.rule_id).sort()).toEqual(Object.values(guidance.metadata).map((m) => m.rule_id).sort());
  }, 600_000);

  it('previewStart evaluates a draft in the engine process; previewResult returns it', async () => {
    const { state } = await ok('guidanceRead', ref);
    const draft = { experiences: { ...state.experiences, G1: `${state.experiences.G1 ?? ''}（复核时以照片为准）` } };
    const { jobId } = await ok('previewStart', { ...ref, draft });
    await waitForStatus(jobId, 'completed');
    const { result } = await ok('previewResult', { ...ref, jobId });
    expect(result?.preview_id).toBe(jobId);
    expect(result?.draft.experiences).toEqual(draft.experiences);
    expect(result?.guidance_step).toBe(state.step);
    expect(result?.rows_draft).toHaveLength(result!.holdout.tickets);
  }, 600_000);

  it('cancelRun stops an attribution job: status cancelled, the cached result untouched', async () => {
    const file = join(runDir, 'attribution', 'step-0.json');
    const before = await readFile(file, 'utf8');
    const { jobId } = await ok('attributionStart', { ...ref, force: true });
    // A second start while it runs follows the running job.
    expect(await ok('attributionStart', { ...ref, force: true })).toEqual({ jobId });
    for (let i = 0; i < 1200 && !events.some((e) => e.type === 'run_event' && e.jobId === jobId && e.event.type === 'progress'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await ok('cancelRun', { jobId })).toEqual({ cancelled: true });
    await waitForStatus(jobId, 'cancelled');
    // SIGTERM aborted the study inside the engine (CANCELLED, exit 130), no SIGKILL was needed.
    expect((await ok('listJobs', {})).jobs.find((j) => j.jobId === jobId)).toMatchObject({ status: 'cancelled', exit_code: 130 });
    expect(await readFile(file, 'utf8')).toBe(before);
  }, 600_000);

  it('refuses a run directory that does not exist', async () => {
    const envelope = await dispatchApiCall(workbench.handlers, 'attributionStart', { runId: 'nope', mission: ref.mission });
    expect(envelope).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND' } });
  });
});
