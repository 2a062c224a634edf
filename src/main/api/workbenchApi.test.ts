import { apiCalls } from '../../../test/helpers/apiCalls';
import { appendFile, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../shared/api/contract';
import { parseRunConfigText } from '../io/loadRunConfig';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { fixtureGuidance, fixtureSelections, groupIdOf, writeFixtureRun } from './fixtureRun';
import { createNodeEngineLauncher } from './nodeEngineLauncher';

const MISSION = 'BBU接地线检查';
const OPTIONS = { runName: 'run-a', mission: MISSION, groups: 40, candidates: 4, epochs: 2 };
const REF = { runId: 'run-a', mission: MISSION };

/** A stand-in engine host: a real child process speaking the --events-json protocol, scripted by the config's run_name. */
const FAKE_ENGINE = `
const fs = require('node:fs');
const config = fs.readFileSync(process.argv[process.argv.indexOf('--config') + 1], 'utf8');
const ts = new Date().toISOString();
const emit = (e) => process.stdout.write(JSON.stringify(e) + '\\n');
emit({ type: 'phase', ts, phase: 'validate', message: 'checking' });
if (config.includes('run_name: crash')) {
  emit({ type: 'error', ts, error: { code: 'MODEL_LOAD_FAILED', message: 'model exploded', location: { file: 'tiny.gguf' } } });
  process.stderr.write('stack trace here\\n');
  process.exit(3);
} else if (config.includes('run_name: slow')) {
  process.stdout.write('not json noise\\n');
  setInterval(() => emit({ type: 'progress', ts, epoch: 0, epochs: 1, batch_index: 0, batches: 1, groups_done: 0, groups_total: 1, epoch_groups_done: 0, epoch_groups_total: 1, tokens_per_second: 0, eta_ms: null }), 50);
} else {
  emit({ type: 'progress', ts, epoch: 0, epochs: 1, batch_index: 0, batches: 1, groups_done: 1, groups_total: 1, epoch_groups_done: 1, epoch_groups_total: 1, tokens_per_second: 12.5, eta_ms: 0 });
  emit({ type: 'done', ts, status: 'completed', message: 'ok' });
}
`;

function configText(runName: string): string {
  return [
    `run_name: ${runName}`,
    `mission: ${MISSION}`,
    'stage_a_paths: [input.jsonl]',
    'guidance: { path: guidance.json }',
    'model: { backend: llama-cpp, path: tiny.gguf }',
    '',
  ].join('\n');
}

let base: string;
let runsRoot: string;
let configsRoot: string;
let missionDir: string;
let workbench: WorkbenchApi;
const events: ApiEvent[] = [];

const { call, ok } = apiCalls(() => workbench);

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'workbench-api-')));
  runsRoot = path.join(base, 'runs');
  configsRoot = path.join(base, 'configs');
  await mkdir(configsRoot, { recursive: true });
  missionDir = await writeFixtureRun(runsRoot, OPTIONS);
  const engine = path.join(base, 'fake-engine.cjs');
  await writeFile(engine, FAKE_ENGINE);
  for (const name of ['good', 'crash', 'slow']) await writeFile(path.join(configsRoot, `${name}.yaml`), configText(name));
  await mkdir(path.join(base, 'secret', 'm'), { recursive: true });
  await writeFile(path.join(base, 'secret', 'm', 'trajectories.jsonl'), '');
  await symlink(path.join(base, 'secret'), path.join(runsRoot, 'escape'));
  workbench = createWorkbenchApi({
    runsRoot,
    configsRoot,
    engineLauncher: createNodeEngineLauncher({ stagebBin: engine }),
    parseConfig: parseRunConfigText,
    cancelGraceMs: 2000,
  });
  workbench.events.subscribe((event) => events.push(event));
});
afterAll(async () => {
  workbench.jobs.shutdown();
  await rm(base, { recursive: true, force: true });
});

describe('runs and rows', () => {
  it('lists the run and its mission', async () => {
    const { runs } = await ok('listRuns', {});
    expect(runs.map((run: any) => [run.runId, run.mission])).toEqual([['run-a', MISSION]]);
    expect(runs[0].files).toMatchObject({ trajectories: true, selections: true, guidance: true, need_review: true, reflection: false });
    expect(runs[0].error).toBeNull();
    const { missions } = await ok('listMissions', {});
    expect(missions).toEqual([{ mission: MISSION, runIds: ['run-a'] }]);
  });

  it('pages selections filtered server-side', async () => {
    const all = [...fixtureSelections(OPTIONS)];
    const expected = all.filter((row) => row.epoch === 1 && row.signals.label_match === false);
    const page = await ok('queryRows', { ...REF, kind: 'selections', filters: { epoch: 1, label_match: false }, offset: 1, limit: 2 });
    expect(page.total).toBe(expected.length);
    expect(page.rows.map((row: any) => row.record)).toEqual(expected.slice(1, 3));
    expect(page.invalid).toEqual([]);
  });

  it('refuses a limit over 500', async () => {
    const envelope = await call('queryRows', { ...REF, kind: 'trajectories', limit: 501 });
    expect(envelope).toMatchObject({ ok: false, error: { code: 'API_INVALID_REQUEST', location: { field: 'limit' } } });
  });

  it.each([
    [{ runId: '../..', mission: MISSION }],
    [{ runId: '..', mission: MISSION }],
    [{ runId: 'run-a', mission: '../run-a' }],
    [{ runId: 'run-a', mission: 'a/b' }],
    [{ runId: 'run-a/..', mission: MISSION }],
    [{ runId: 'run-a', mission: 'x\\..\\..' }],
    [{ runId: 'run-a\0', mission: MISSION }],
  ])('rejects traversal in %j before touching the disk', async (ref) => {
    const envelope = await call('queryRows', { ...ref, kind: 'trajectories' });
    expect(envelope).toMatchObject({ ok: false, error: { code: 'API_INVALID_REQUEST' } });
  });

  it.each([[{ runId: '%2e%2e', mission: '%2e%2e' }], [{ runId: 'escape', mission: 'm' }]])('refuses %j resolving outside the runs root', async (ref) => {
    const envelope = await call('queryRows', { ...ref, kind: 'trajectories' });
    expect(envelope.ok).toBe(false);
    expect(!envelope.ok && ['API_FORBIDDEN', 'API_NOT_FOUND']).toContain(!envelope.ok && envelope.error.code);
    if (!envelope.ok && ref.runId === 'escape') expect(envelope.error.code).toBe('API_FORBIDDEN');
  });

  it('answers an unknown method with API_NOT_FOUND', async () => {
    expect(await call('deleteEverything', {})).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND' } });
    expect(await call('__proto__', {})).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND' } });
  });

  it('returns a group: parsed Stage-A ticket, candidates, per-epoch selections, guidance in force, need_review', async () => {
    const detail = await ok('groupDetail', { ...REF, groupId: groupIdOf(1) });
    expect(detail.ticketError).toBeNull();
    expect(detail.tickets).toHaveLength(1);
    expect(detail.tickets[0].ticket_key).toBe(`${groupIdOf(1)}::pass`);
    expect(detail.tickets[0].summaries.map((s: any) => s.image)).toEqual(['image_1', 'image_2']);
    expect(detail.tickets[0].summaries[1].parsed.format).toBe('irrelevant');
    expect(detail.tickets[0].summaries[0].parsed.format).toBe('text');
    expect(detail.candidates).toHaveLength(OPTIONS.epochs * OPTIONS.candidates);
    expect(detail.selections.map((s: any) => s.epoch)).toEqual([0, 1]);
    expect(detail.guidance.step).toBe(3);
    expect(detail.guidance.state).toBeNull(); // step 3 is neither a snapshot nor the live file
    expect(detail.needReview?.group_id).toBe(groupIdOf(1));
    await writeFile(
      path.join(missionDir, 'guidance_history.jsonl'),
      JSON.stringify({ step: 3, experiences: { G0: '第三步的指引' }, epoch: 1, batch_index: 0, recorded_at: '2025-01-02T00:00:00.000Z' }) + '\n',
    );
    const again = await ok('groupDetail', { ...REF, groupId: groupIdOf(1) });
    expect(again.guidance.state).toMatchObject({ step: 3, experiences: { G0: '第三步的指引' } });
  });

  it('an unknown group is empty, not an error', async () => {
    const detail = await ok('groupDetail', { ...REF, groupId: 'nope' });
    expect(detail.candidates).toEqual([]);
    expect(detail.tickets).toEqual([]);
  });
});

describe('QA', () => {
  it('queues need_review, ineligible and critique rows and records reviews append-only', async () => {
    const queue = await ok('qaQueue', { ...REF, reason: 'need_review' });
    expect(queue.items.map((item: any) => item.group_id)).toEqual([groupIdOf(1), groupIdOf(1)]);
    const ineligible = await ok('qaQueue', { ...REF, reason: 'ineligible', limit: 500 });
    expect(ineligible.total).toBe([...fixtureSelections(OPTIONS)].filter((row) => row.ineligible_reason).length);
    await ok('markReviewed', { ...REF, groupId: groupIdOf(1), epoch: 0, status: 'label_wrong', note: '标签错了', reviewer: 'qa1' });
    await ok('markReviewed', { ...REF, groupId: groupIdOf(1), epoch: 0, status: 'ok', note: 'second look' });
    const log = (await readFile(path.join(missionDir, 'qa_reviews.jsonl'), 'utf8')).trim().split('\n');
    expect(log).toHaveLength(2);
    const after = await ok('qaQueue', { ...REF, reason: 'need_review' });
    expect(after.items[0].review).toMatchObject({ status: 'ok', note: 'second look' });
    const pending = await ok('qaQueue', { ...REF, reason: 'need_review', includeReviewed: false });
    expect(pending.items.map((item: any) => item.epoch)).toEqual([1]);
  });

  it('refuses an oversized note', async () => {
    expect(await call('markReviewed', { ...REF, groupId: 'g', status: 'ok', note: 'x'.repeat(5000) })).toMatchObject({ ok: false, error: { code: 'API_INVALID_REQUEST' } });
  });
});

describe('guidance', () => {
  it('reads, saves with compare-and-swap, and returns base/theirs/mine on a lost race', async () => {
    const { state } = await ok('guidanceRead', REF);
    expect(state.step).toBe(2);
    const mine = { ...state.experiences, G3: '注释员新增：接地排上有锈蚀时判为不通过。' };
    const saved = await ok('guidanceSave', { ...REF, baseStep: 2, experiences: mine });
    expect(saved.status).toBe('ok');
    expect(saved.state.step).toBe(3);
    expect(saved.state.metadata.G3.origin).toBe('annotator');

    const stale = { ...state.experiences, G1: '另一位注释员的修改' };
    const conflict = await ok('guidanceSave', { ...REF, baseStep: 2, experiences: stale });
    expect(conflict.status).toBe('conflict');
    expect(conflict.error.code).toBe('GUIDANCE_STEP_CONFLICT');
    expect(conflict.base).toMatchObject({ step: 2, experiences: state.experiences });
    expect(conflict.theirs).toMatchObject({ step: 3, experiences: mine });
    expect(conflict.mine.experiences).toEqual(stale);
    // The file is what the winner wrote.
    expect((await ok('guidanceRead', REF)).state.experiences).toEqual(mine);
  });

  it('lists snapshots, reads one, rolls back as a new step, and conflicts on a stale rollback', async () => {
    const { snapshots } = await ok('listSnapshots', REF);
    const stepZero = snapshots.find((snapshot: any) => snapshot.step === 0);
    expect(stepZero).toBeDefined();
    const read = await ok('readSnapshot', { ...REF, name: stepZero.name });
    expect(read.state.experiences).toEqual(fixtureGuidance(0).experiences);
    const current = (await ok('guidanceRead', REF)).state;
    const rolled = await ok('guidanceRollback', { ...REF, snapshot: stepZero.name, baseStep: current.step });
    expect(rolled).toMatchObject({ status: 'ok', state: { step: current.step + 1, experiences: fixtureGuidance(0).experiences } });
    const stale = await ok('guidanceRollback', { ...REF, snapshot: stepZero.name, baseStep: current.step });
    expect(stale.status).toBe('conflict');
    expect(stale.theirs.step).toBe(current.step + 1);
    expect(stale.mine.experiences).toEqual(fixtureGuidance(0).experiences);
  });

  it.each([['..'], ['../guidance.json'], ['%2e%2e'], ['a/b.json'], ['..\\x']])('refuses snapshot name %j', async (name) => {
    const read = await call('readSnapshot', { ...REF, name });
    expect(read.ok).toBe(false);
    expect(!read.ok && ['API_INVALID_REQUEST', 'API_FORBIDDEN']).toContain(!read.ok && read.error.code);
    const rollback = await call('guidanceRollback', { ...REF, snapshot: name, baseStep: 0 });
    expect(rollback.ok).toBe(false);
  });

  it('refuses experience keys that are not G<n>/S<n>', async () => {
    expect(await call('guidanceSave', { ...REF, baseStep: 0, experiences: { 'G1; rm -rf': 'x' } })).toMatchObject({ ok: false, error: { code: 'API_INVALID_REQUEST' } });
  });
});

describe('reflection log and charts', () => {
  it('shows guidance before and after an applied reflection', async () => {
    const record = (applied: boolean, before: number, after: number) => ({
      epoch: 0,
      reflection: {
        reflection_id: `r-${before}-${applied}`,
        mission: MISSION,
        batch_index: 0,
        cycle: 0,
        proposal: { action: 'refine', summary: 's', critique: 'c', operations: [], evidence_group_ids: [], uncertainty_note: null },
        eligible: applied,
        ineligible_reason: applied ? null : 'holdout_no_uplift',
        applied,
        pre_uplift: null,
        post_uplift: null,
        uplift_probability: null,
        guidance_step_before: before,
        guidance_step_after: after,
        debug_info: null,
        cache_artifacts: [],
      },
      created_at: '2025-01-01T00:00:00.000Z',
    });
    await writeFile(path.join(missionDir, 'reflection.jsonl'), [record(true, 0, 1), record(false, 1, 1), '{broken'].map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
    const log = await ok('reflectionLog', REF);
    expect(log.total).toBe(2);
    expect(log.invalid.map((entry: any) => entry.line)).toEqual([3]);
    expect(log.rows[0].guidance_before).toMatchObject({ step: 0, experiences: fixtureGuidance(0).experiences });
    expect(log.rows[0].guidance_after).toMatchObject({ step: 1, experiences: fixtureGuidance(1, 1).experiences });
    expect(log.rows[1].guidance_before).toBeNull();
    const applied = await ok('reflectionLog', { ...REF, appliedOnly: true });
    expect(applied.total).toBe(1);
  });

  it('recomputes per-batch and per-epoch rates from selections when telemetry is absent', async () => {
    const charts = await ok('charts', REF);
    expect(charts.source).toBe('selections');
    const all = [...fixtureSelections(OPTIONS)];
    const batch0 = all.filter((row) => row.epoch === 0 && row.batch_index === 0 && row.label !== null);
    expect(charts.batches[0]).toMatchObject({ epoch: 0, batch_index: 0, labelled: batch0.length });
    expect(charts.batches[0].label_match_rate).toBeCloseTo(batch0.filter((row) => row.verdict === row.label).length / batch0.length);
    expect(charts.epochs.map((epoch: any) => epoch.epoch)).toEqual([0, 1]);
    expect(charts.guidanceSizes.map((entry: any) => entry.step)).toEqual([...charts.guidanceSizes.map((entry: any) => entry.step)].sort((a: number, b: number) => a - b));
  });
});

describe('configs and jobs', () => {
  it('lists, reads and validates configs with line numbers', async () => {
    const { configs } = await ok('listConfigs', {});
    expect(configs.map((config: any) => config.path)).toEqual(['crash.yaml', 'good.yaml', 'slow.yaml']);
    expect((await ok('readConfig', { path: 'good.yaml' })).text).toBe(configText('good'));
    expect(await ok('validateConfig', { text: configText('good') })).toMatchObject({ ok: true });
    const invalid = await ok('validateConfig', { text: configText('good').replace('run_name: good', 'run_name: 坏 名') + 'runner: { epochs: 0 }\n' });
    expect(invalid.ok).toBe(false);
    expect(invalid.errors.length).toBeGreaterThanOrEqual(2);
    expect(invalid.errors.some((error: any) => error.location.field?.includes('run_name') && error.location.line === 1)).toBe(true);
  });

  it('saves valid configs atomically and refuses invalid ones unless forced', async () => {
    await ok('saveConfig', { path: 'sub/new.yaml', text: configText('new') });
    expect(await readFile(path.join(configsRoot, 'sub', 'new.yaml'), 'utf8')).toBe(configText('new'));
    expect(await call('saveConfig', { path: 'bad.yaml', text: 'run_name: [' })).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
    const forced = await ok('saveConfig', { path: 'draft.yaml', text: 'run_name: [', force: true });
    expect(forced.validation.ok).toBe(false);
  });

  it.each([['../outside.yaml'], ['/etc/passwd'], ['sub/../../x.yaml'], ['%2e%2e/x.yaml'], ['notes.txt'], ['a\0.yaml']])('refuses config path %j', async (configPath) => {
    const read = await call('readConfig', { path: configPath });
    expect(read.ok).toBe(false);
    const save = await call('saveConfig', { path: configPath, text: configText('x'), force: true });
    expect(save.ok).toBe(false);
    expect(!save.ok && ['API_INVALID_REQUEST', 'API_FORBIDDEN']).toContain(!save.ok && save.error.code);
  });

  const waitFor = async (predicate: () => boolean) => {
    for (let i = 0; i < 200 && !predicate(); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(predicate()).toBe(true);
  };

  it('starts an engine job and forwards its RunEvents', async () => {
    const { jobId } = await ok('startRun', { configPath: 'good.yaml', kind: 'stage_b' });
    await waitFor(() => events.some((e) => e.type === 'job_status' && e.jobId === jobId && e.status === 'completed'));
    const mine = events.filter((e) => e.jobId === jobId);
    expect(mine.filter((e) => e.type === 'run_event').map((e) => e.type === 'run_event' && e.event.type)).toEqual(['phase', 'progress', 'done']);
    const { jobs } = await ok('listJobs', {});
    expect(jobs.find((job: any) => job.jobId === jobId)).toMatchObject({ status: 'completed', exit_code: 0 });
  });

  it('reports an engine crash as a failed job with the engine error, and keeps serving', async () => {
    const { jobId } = await ok('startRun', { configPath: 'crash.yaml' });
    await waitFor(() => events.some((e) => e.type === 'job_status' && e.jobId === jobId && e.status === 'failed'));
    const failed = events.find((e) => e.type === 'job_status' && e.jobId === jobId && e.status === 'failed');
    expect(failed).toMatchObject({ exit_code: 3, error: { code: 'MODEL_LOAD_FAILED', message: 'model exploded' } });
    expect(events.some((e) => e.type === 'job_log' && e.jobId === jobId && e.line === 'stack trace here')).toBe(true);
    expect((await ok('listRuns', {})).runs.length).toBe(1);
  });

  it('cancels a running job (SIGTERM) and reports it cancelled', async () => {
    const { jobId } = await ok('startRun', { configPath: 'slow.yaml' });
    await waitFor(() => events.some((e) => e.type === 'run_event' && e.jobId === jobId && e.event.type === 'progress'));
    expect(events.some((e) => e.type === 'job_log' && e.jobId === jobId && e.line === 'not json noise')).toBe(true);
    expect(await ok('cancelRun', { jobId })).toEqual({ cancelled: true });
    await waitFor(() => events.some((e) => e.type === 'job_status' && e.jobId === jobId && e.status === 'cancelled'));
    expect(await ok('cancelRun', { jobId })).toEqual({ cancelled: false });
  });

  it('refuses to start an invalid config or one outside the configs root', async () => {
    await writeFile(path.join(configsRoot, 'broken.yaml'), 'run_name: [');
    expect(await call('startRun', { configPath: 'broken.yaml' })).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
    expect((await call('startRun', { configPath: '../runs/x.yaml' })).ok).toBe(false);
    expect(await call('cancelRun', { jobId: 'nope' })).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND' } });
  });
});

describe('growth while a run is live', () => {
  it('sees rows appended after the first query', async () => {
    const before = await ok('queryRows', { ...REF, kind: 'selections', limit: 1 });
    const extra = { ...[...fixtureSelections(OPTIONS)][0], group_id: 'QC-LIVE', epoch: 2 };
    await appendFile(path.join(missionDir, 'selections.jsonl'), JSON.stringify(extra) + '\n');
    const after = await ok('queryRows', { ...REF, kind: 'selections', filters: { epoch: 2 } });
    expect(after.total).toBe(1);
    expect(after.indexed_lines).toBe(before.indexed_lines + 1);
  });
});
