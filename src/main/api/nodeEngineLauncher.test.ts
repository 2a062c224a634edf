import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, JobStatus } from '../../shared/api/contract';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { dispatchApiCall } from './dispatchApiCall';
import { createNodeEngineLauncher } from './nodeEngineLauncher';

/**
 * A stand-in engine host in a real child process: it answers the control lines on its stdin
 * as the real one does at a batch boundary (`paused`, then `resumed` and on to the end), and
 * ends cancelled on SIGTERM.
 */
const FAKE_ENGINE = `
const emit = (e) => process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), ...e }) + '\\n');
emit({ type: 'phase', phase: 'rollout', message: 'batch 0' });
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const control = JSON.parse(line);
  if (control.type === 'pause') emit({ type: 'paused', epoch: 0, batch_index: 1, batches: 2 });
  if (control.type === 'resume') {
    emit({ type: 'resumed', epoch: 0, batch_index: 1, paused_ms: 3 });
    emit({ type: 'done', status: 'completed', message: 'ok' });
    process.exit(0);
  }
});
process.on('SIGTERM', () => {
  emit({ type: 'error', error: { code: 'CANCELLED', message: 'run cancelled by the operator while paused', location: {} } });
  process.exit(130);
});
`;

let base: string;
let workbench: WorkbenchApi;
const events: ApiEvent[] = [];

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'stageb-launcher-'));
  const engine = path.join(base, 'fake-engine.cjs');
  await writeFile(engine, FAKE_ENGINE);
  workbench = createWorkbenchApi({
    runsRoot: base,
    engineLauncher: createNodeEngineLauncher({ stagebBin: engine }),
    parseConfig: () => {
      throw new Error('not used');
    },
    cancelGraceMs: 5000,
  });
  workbench.events.subscribe((event) => events.push(event));
});
afterAll(async () => {
  workbench.jobs.shutdown();
  await rm(base, { recursive: true, force: true });
});

/** Resolves when job `jobId` reaches `status` (pushed job_status events, as a transport sees them). */
function statusReached(jobId: string, status: JobStatus): Promise<void> {
  const reached = () => events.some((e) => e.type === 'job_status' && e.jobId === jobId && e.status === status);
  if (reached()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = workbench.events.subscribe(() => {
      if (reached()) {
        off();
        resolve();
      }
    });
  });
}

function runEventSeen(jobId: string, type: string): Promise<void> {
  const seen = () => events.some((e) => e.type === 'run_event' && e.jobId === jobId && e.event.type === type);
  if (seen()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = workbench.events.subscribe(() => {
      if (seen()) {
        off();
        resolve();
      }
    });
  });
}

async function call(method: string, input: unknown) {
  const envelope = await dispatchApiCall(workbench.handlers, method, input);
  if (!envelope.ok) throw new Error(`${method}: ${envelope.error.message}`);
  return envelope.result as Record<string, unknown>;
}

describe('pauseJob / resumeJob through the API, down the Node engine\'s stdin', () => {
  it('pauses, resumes and completes a run', { timeout: 30_000 }, async () => {
    const jobId = workbench.jobs.start('stage_b', path.join(base, 'run.yaml'));
    await runEventSeen(jobId, 'phase');
    await expect(call('pauseJob', { jobId })).resolves.toEqual({ requested: true });
    await statusReached(jobId, 'paused');
    expect((await call('listJobs', {})).jobs).toEqual([expect.objectContaining({ jobId, status: 'paused', last_event: expect.objectContaining({ type: 'paused', batch_index: 1 }) })]);
    await expect(call('pauseJob', { jobId })).resolves.toEqual({ requested: false });
    await expect(call('resumeJob', { jobId })).resolves.toEqual({ requested: true });
    await statusReached(jobId, 'completed');
    const statuses = events.filter((e) => e.type === 'job_status' && e.jobId === jobId).map((e) => (e as { status: string }).status);
    expect(statuses).toEqual(['running', 'pausing', 'paused', 'running', 'completed']);
  });

  it('cancels a paused run', { timeout: 30_000 }, async () => {
    const jobId = workbench.jobs.start('distill', path.join(base, 'run.yaml'));
    await runEventSeen(jobId, 'phase');
    await call('pauseJob', { jobId });
    await statusReached(jobId, 'paused');
    await expect(call('cancelRun', { jobId })).resolves.toEqual({ cancelled: true });
    await statusReached(jobId, 'cancelled');
    expect(workbench.jobs.get(jobId)).toMatchObject({ status: 'cancelled', exit_code: 130 });
    expect(workbench.jobs.get(jobId)?.finished_at).not.toBeNull();
    await expect(call('resumeJob', { jobId })).resolves.toEqual({ requested: false });
  });

  it('refuses an unknown job with API_NOT_FOUND', async () => {
    const envelope = await dispatchApiCall(workbench.handlers, 'pauseJob', { jobId: 'nope' });
    expect(envelope).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND', location: { field: 'jobId' } } });
  });
});
