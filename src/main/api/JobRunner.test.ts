import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../shared/api/contract';
import { EventHub } from './EventHub';
import { JobRunner, type EngineLaunch, type EngineProcess } from './JobRunner';
import { engineArgs } from './nodeEngineLauncher';
import type { RunControlMessage } from '../../shared/schemas/telemetry';

/** An engine process the test drives by hand: lines in, exit out, kills recorded. */
function scriptedEngine() {
  const stdout: ((line: string) => void)[] = [];
  const exits: ((exit: { code: number | null; signal: string | null }) => void)[] = [];
  const kills: string[] = [];
  const sent: RunControlMessage[] = [];
  let channelOpen = true;
  const engine: EngineProcess = {
    onStdoutLine: (listener) => stdout.push(listener),
    onStderrLine: () => undefined,
    onExit: (listener) => exits.push(listener),
    kill: (signal) => kills.push(signal),
    send: (control) => channelOpen && sent.push(control) > 0,
  };
  return { engine, kills, sent, closeChannel: () => (channelOpen = false), line: (text: string) => stdout.forEach((l) => l(text)), exit: (code: number | null, signal: string | null = null) => exits.forEach((l) => l({ code, signal })) };
}

const progress = (done: number, total: number) =>
  JSON.stringify({ type: 'progress', ts: 't', epoch: 0, epochs: 1, batch_index: 0, batches: 3, groups_done: done, groups_total: total, epoch_groups_done: done, epoch_groups_total: total, tokens_per_second: 1, eta_ms: null });

describe('JobRunner with attribution and preview jobs', () => {
  it('launches an attribution job on a run directory, forwards its progress and remembers the run', () => {
    const events = new EventHub();
    const seen: ApiEvent[] = [];
    events.subscribe((e) => seen.push(e));
    const launches: EngineLaunch[] = [];
    const script = scriptedEngine();
    const runner = new JobRunner((launch) => (launches.push(launch), script.engine), events, 1000);
    const jobId = runner.start('attribution', '/runs/r/m', { run: { runId: 'r', mission: 'm' }, extraArgs: ['--force'] });
    expect(launches).toEqual([{ jobId, kind: 'attribution', configPath: '/runs/r/m', extraArgs: ['--force'] }]);
    script.line(progress(2, 12));
    expect(runner.get(jobId)).toMatchObject({ kind: 'attribution', status: 'running', run: { runId: 'r', mission: 'm' }, last_event: { type: 'progress', groups_done: 2, groups_total: 12 } });
    expect(seen.filter((e) => e.type === 'run_event')).toHaveLength(1);
    script.line(JSON.stringify({ type: 'done', ts: 't', status: 'completed', message: 'ok' }));
    script.exit(0);
    expect(runner.get(jobId)).toMatchObject({ status: 'completed', exit_code: 0 });
  });

  it('cancels a preview job: SIGTERM, then SIGKILL after the grace period, status cancelled', async () => {
    const events = new EventHub();
    const script = scriptedEngine();
    const runner = new JobRunner(() => script.engine, events, 20);
    const jobId = runner.start('preview', '/runs/r/m', { jobId: 'preview-1', run: { runId: 'r', mission: 'm' } });
    expect(jobId).toBe('preview-1');
    expect(() => runner.start('preview', '/runs/r/m', { jobId: 'preview-1' })).toThrow(/exists already/);
    script.line(progress(1, 8));
    expect(runner.cancel(jobId)).toBe(true);
    expect(script.kills).toEqual(['SIGTERM']);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(script.kills).toEqual(['SIGTERM', 'SIGKILL']);
    script.exit(130);
    expect(runner.get(jobId)).toMatchObject({ status: 'cancelled', exit_code: 130 });
    expect(runner.cancel(jobId)).toBe(false);
  });

  it('builds the engine argv of every kind', () => {
    expect(engineArgs('stage_b', 'c.yaml')).toEqual(['run', '--config', 'c.yaml', '--events-json']);
    expect(engineArgs('distill', 'c.yaml')).toEqual(['distill', 'run', '--config', 'c.yaml', '--events-json']);
    expect(engineArgs('attribution', '/d', ['--force'])).toEqual(['attribute', '--run', '/d', '--events-json', '--force']);
    expect(engineArgs('preview', '/d', ['--guidance', 'g.json', '--id', 'x'])).toEqual(['preview', '--run', '/d', '--events-json', '--guidance', 'g.json', '--id', 'x']);
  });
});

const paused = (batch: number) => JSON.stringify({ type: 'paused', ts: 't', epoch: 0, batch_index: batch, batches: 3 });
const resumed = (batch: number) => JSON.stringify({ type: 'resumed', ts: 't', epoch: 0, batch_index: batch, paused_ms: 5 });

describe('JobRunner pause, resume and cancel of a run', () => {
  function startRun() {
    const events = new EventHub();
    const statuses: string[] = [];
    events.subscribe((e) => e.type === 'job_status' && statuses.push(e.status));
    const script = scriptedEngine();
    const runner = new JobRunner(() => script.engine, events, 20);
    const jobId = runner.start('stage_b', '/configs/run.yaml');
    script.line(progress(4, 12));
    return { runner, script, jobId, statuses };
  }

  it('pauses at the engine\'s batch boundary and resumes when the engine says so', () => {
    const { runner, script, jobId, statuses } = startRun();
    expect(runner.pause(jobId)).toBe(true);
    expect(script.sent).toEqual([{ type: 'pause' }]);
    // Asked, not there yet: the batch in flight finishes first.
    expect(runner.get(jobId)?.status).toBe('pausing');
    expect(runner.pause(jobId)).toBe(false);
    script.line(paused(1));
    expect(runner.get(jobId)).toMatchObject({ status: 'paused', finished_at: null, last_event: { type: 'paused', batch_index: 1 } });
    expect(runner.resume(jobId)).toBe(true);
    expect(script.sent).toEqual([{ type: 'pause' }, { type: 'resume' }]);
    // Paused until the engine has really left the boundary.
    expect(runner.get(jobId)?.status).toBe('paused');
    script.line(resumed(1));
    expect(runner.get(jobId)?.status).toBe('running');
    expect(runner.resume(jobId)).toBe(false);
    script.line(JSON.stringify({ type: 'done', ts: 't', status: 'completed', message: 'ok' }));
    script.exit(0);
    expect(runner.get(jobId)).toMatchObject({ status: 'completed', exit_code: 0 });
    expect(statuses).toEqual(['running', 'pausing', 'paused', 'running', 'completed']);
    expect(runner.pause(jobId)).toBe(false);
  });

  it('withdraws a pause the engine has not reached yet', () => {
    const { runner, script, jobId } = startRun();
    runner.pause(jobId);
    expect(runner.resume(jobId)).toBe(true);
    expect(script.sent).toEqual([{ type: 'pause' }, { type: 'resume' }]);
    expect(runner.get(jobId)?.status).toBe('running');
  });

  it('cancels a paused run: SIGTERM, then cancelled with finished_at; nothing more to pause or resume', () => {
    const { runner, script, jobId } = startRun();
    runner.pause(jobId);
    script.line(paused(2));
    expect(runner.cancel(jobId)).toBe(true);
    expect(script.kills).toEqual(['SIGTERM']);
    expect(runner.resume(jobId)).toBe(false);
    script.exit(130);
    const info = runner.get(jobId)!;
    expect(info.status).toBe('cancelled');
    expect(info.finished_at).not.toBeNull();
    expect(runner.cancel(jobId)).toBe(false);
    expect(runner.resume(jobId)).toBe(false);
    expect(script.sent).toEqual([{ type: 'pause' }]);
  });

  it('cancels a run that is still pausing (the batch in flight)', () => {
    const { runner, script, jobId } = startRun();
    runner.pause(jobId);
    expect(runner.cancel(jobId)).toBe(true);
    script.exit(130);
    expect(runner.get(jobId)?.status).toBe('cancelled');
  });

  it('leaves the status alone when the control channel is gone', () => {
    const { runner, script, jobId } = startRun();
    script.closeChannel();
    expect(runner.pause(jobId)).toBe(false);
    expect(runner.get(jobId)?.status).toBe('running');
  });

  it('refuses to pause a job without batches, and an unknown job', () => {
    const script = scriptedEngine();
    const runner = new JobRunner(() => script.engine, new EventHub(), 20);
    const jobId = runner.start('preview', '/runs/r/m');
    expect(() => runner.pause(jobId)).toThrow(/no batches to pause/);
    expect(() => runner.pause('nope')).toThrow(/no job nope/);
    expect(() => runner.resume('nope')).toThrow(/no job nope/);
    expect(script.sent).toEqual([]);
  });
});
