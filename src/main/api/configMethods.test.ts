import { apiCalls } from '../../../test/helpers/apiCalls';
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ConfigEntry, JobInfo } from '../../shared/api/contract';
import { parseRunConfigText } from '../io/loadRunConfig';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { createNodeEngineLauncher } from './nodeEngineLauncher';

const REPO_CONFIGS = path.resolve(import.meta.dirname, '../../../configs');
/** The shipped configs folder's mix: run configs (one with distillation on), a fusion config and an SFT config. */
const SHIPPED = ['example.yaml', 'demo.yaml', 'teacher-qwen3-32b.yaml', 'fusion/stageb_teacher.yaml', 'sft/dense_summary_chat_stageb.yaml', 'sft/eval_student_stageb.yaml'];
const ENGINE = `
const ts = new Date().toISOString();
process.stdout.write(JSON.stringify({ type: 'done', ts, status: 'completed', message: 'ok' }) + '\\n');
`;

let base: string;
let configsRoot: string;
let workbench: WorkbenchApi;
const events: ApiEvent[] = [];

const { call, ok } = apiCalls(() => workbench);

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'config-methods-')));
  configsRoot = path.join(base, 'configs');
  for (const file of SHIPPED) {
    await mkdir(path.dirname(path.join(configsRoot, file)), { recursive: true });
    await copyFile(path.join(REPO_CONFIGS, file), path.join(configsRoot, file));
  }
  await writeFile(path.join(base, 'engine.cjs'), ENGINE);
  await mkdir(path.join(base, 'runs'));
  workbench = createWorkbenchApi({
    runsRoot: path.join(base, 'runs'),
    configsRoot,
    engineLauncher: createNodeEngineLauncher({ stagebBin: path.join(base, 'engine.cjs') }),
    parseConfig: parseRunConfigText,
  });
  workbench.events.subscribe((event) => events.push(event));
});
afterAll(async () => {
  workbench.jobs.shutdown();
  await rm(base, { recursive: true, force: true });
});

describe('config kinds', () => {
  it('lists run configs with run_name and mission, and fusion / SFT configs by their kind', async () => {
    const { configs } = await ok<{ configs: ConfigEntry[] }>('listConfigs', {});
    const byPath = Object.fromEntries(configs.map((c) => [c.path, c]));
    expect(byPath['sft/dense_summary_chat_stageb.yaml']).toMatchObject({ kind: 'sft', run_name: null, mission: null, distill: false });
    expect(byPath['fusion/stageb_teacher.yaml']).toMatchObject({ kind: 'fusion', distill: false });
    // An SFT-folder file that is a Stage-B run config (it judges a student) stays a run.
    expect(byPath['sft/eval_student_stageb.yaml']).toMatchObject({ kind: 'run', run_name: 'eval-student-dense-summary-stageb', mission: 'BBU接地线检查', distill: false });
    expect(byPath['demo.yaml']).toMatchObject({ kind: 'run', run_name: 'demo', distill: true });
    expect(byPath['example.yaml']).toMatchObject({ kind: 'run', run_name: 'bbu_line_2025q1', distill: true });
    expect(byPath['teacher-qwen3-32b.yaml']).toMatchObject({ kind: 'run', distill: true });
  });

  it('validates an SFT config against the SFT schema, not as a run config', async () => {
    const text = await readFile(path.join(configsRoot, 'sft/dense_summary_chat_stageb.yaml'), 'utf8');
    expect(await ok('validateConfig', { text })).toMatchObject({ ok: true, config: { name: 'dense_summary_chat_stageb' } });
    const broken = await ok('validateConfig', { text: text.replace('chat: 0.10', 'chat: 0.30') });
    expect(broken.ok).toBe(false);
    expect(broken.errors.map((e: any) => e.message).join('\n')).toMatch(/sum to 1/);
    expect(broken.errors[0].location.line).toBeGreaterThan(1);
  });

  it('refuses to start an SFT or fusion config as a run, naming the file and what it is for', async () => {
    const sft = await call('startRun', { configPath: 'sft/dense_summary_chat_stageb.yaml', kind: 'stage_b' });
    expect(sft).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', location: { file: 'sft/dense_summary_chat_stageb.yaml' } } });
    expect(!sft.ok && sft.error.message).toMatch(/an SFT config, not a Stage-B run config/);
    expect(await call('startRun', { configPath: 'fusion/stageb_teacher.yaml', kind: 'distill' })).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
  });

  it('counts a run config without stage_b_distillation as distill (the key defaults to true)', async () => {
    await writeFile(path.join(configsRoot, 'plain.yaml'), 'run_name: plain\nmission: m\n');
    const { configs } = await ok<{ configs: ConfigEntry[] }>('listConfigs', {});
    expect(configs.find((c) => c.path === 'plain.yaml')).toMatchObject({ kind: 'run', distill: true });
    await rm(path.join(configsRoot, 'plain.yaml'));
  });

  it('refuses a distill job for a run config without stage_b_distillation.enabled', async () => {
    expect(await call('startRun', { configPath: 'sft/eval_student_stageb.yaml', kind: 'distill' })).toMatchObject({
      ok: false,
      error: { code: 'CONFIG_INVALID', location: { file: 'sft/eval_student_stageb.yaml', field: 'stage_b_distillation.enabled' } },
    });
  });

  it('names a started job by the run and mission it writes', async () => {
    const { jobId } = await ok('startRun', { configPath: 'demo.yaml', kind: 'stage_b' });
    const { jobs } = await ok<{ jobs: JobInfo[] }>('listJobs', {});
    expect(jobs.find((j) => j.jobId === jobId)).toMatchObject({ kind: 'stage_b', run: { runId: 'demo', mission: 'RRU接地与防水检查' } });
  });
});

describe('saveConfigAs', () => {
  it('writes a template under a new name, then refuses to overwrite it unless asked', async () => {
    const template = (await ok('readConfig', { path: 'example.yaml' })).text as string;
    const text = template.replace(/^run_name: .*$/m, 'run_name: my-run');
    expect(await ok('saveConfigAs', { name: 'my-run.yaml', text })).toMatchObject({ path: 'my-run.yaml', validation: { ok: true } });
    expect(await readFile(path.join(configsRoot, 'my-run.yaml'), 'utf8')).toBe(text);
    const again = await call('saveConfigAs', { name: 'my-run.yaml', text: `${text}# changed\n` });
    expect(again).toMatchObject({ ok: false, error: { code: 'FILE_EXISTS', location: { file: 'my-run.yaml', field: 'name' } } });
    expect(await readFile(path.join(configsRoot, 'my-run.yaml'), 'utf8')).toBe(text);
    await ok('saveConfigAs', { name: 'my-run.yaml', text: `${text}# changed\n`, overwrite: true });
    expect(await readFile(path.join(configsRoot, 'my-run.yaml'), 'utf8')).toBe(`${text}# changed\n`);
    const { configs } = await ok<{ configs: ConfigEntry[] }>('listConfigs', {});
    expect(configs.find((c) => c.path === 'my-run.yaml')).toMatchObject({ kind: 'run', run_name: 'my-run' });
  });

  it.each([['sub/x.yaml'], ['../x.yaml'], ['x.yml'], ['x.txt'], ['.hidden.yaml'], ['a\\b.yaml'], ['']])('refuses the name %j with a typed error', async (name) => {
    const reply = await call('saveConfigAs', { name, text: 'run_name: x\n' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'API_INVALID_REQUEST' } });
  });

  it('refuses text that does not validate, and writes nothing', async () => {
    const reply = await call('saveConfigAs', { name: 'broken.yaml', text: 'run_name: [' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', location: { file: 'broken.yaml', line: 1 } } });
    await expect(readFile(path.join(configsRoot, 'broken.yaml'))).rejects.toThrow();
  });
});
