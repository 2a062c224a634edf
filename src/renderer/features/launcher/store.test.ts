import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import type { ConfigEntry } from '../../../shared/api/contract';
import { configNameError, createLauncherStore, draftModelPath, jobTitle } from './store';

const entry = (path: string, kind: ConfigEntry['kind'], run_name: string | null = null): ConfigEntry => ({
  path, kind, run_name, mission: run_name ? 'm' : null, distill: false, size_bytes: 1, modified_at: '2026-01-01T00:00:00Z',
});

/** A client holding a configs folder in memory; saveConfigAs refuses an existing name unless overwrite, as the server does. */
function fakeClient(files: Record<string, string>) {
  const calls: string[] = [];
  const kindOf = (path: string) => (path.startsWith('sft/') ? 'sft' : 'run') as ConfigEntry['kind'];
  const client = {
    listConfigs: async () => ({ configs: Object.keys(files).sort().map((p) => entry(p, kindOf(p), p.replace('.yaml', ''))) }),
    listJobs: async () => ({ jobs: [] }),
    readConfig: async ({ path }: { path: string }) => ({ path, text: files[path] }),
    validateConfig: async () => ({ ok: true as const, config: {} }),
    saveConfigAs: async ({ name, text, overwrite }: { name: string; text: string; overwrite?: boolean }) => {
      calls.push(`saveConfigAs ${name} ${overwrite ? 'overwrite' : ''}`.trim());
      if (files[name] !== undefined && !overwrite) throw { code: 'FILE_EXISTS', message: 'exists', location: { file: name } };
      files[name] = text;
      return { path: name, validation: { ok: true as const, config: {} } };
    },
    onEvent: () => () => undefined,
  } as unknown as ApiClient;
  return { client, calls };
}

describe('launcher store', () => {
  it('names jobs by run and mission, and by config file when the job has no run', () => {
    expect(jobTitle({ kind: 'stage_b', configPath: '/c/demo.yaml', run: { runId: 'demo', mission: 'BBU接地线检查' } })).toBe('demo · BBU接地线检查 (stage_b)');
    expect(jobTitle({ kind: 'distill', configPath: '/c/teacher.yaml' })).toBe('teacher.yaml (distill)');
  });

  it('accepts only plain .yaml file names', () => {
    expect(configNameError('my-run.yaml')).toBeNull();
    for (const bad of ['sub/x.yaml', 'x.yml', '.x.yaml', 'x', '', 'a\\b.yaml']) expect(configNameError(bad), bad).not.toBeNull();
  });

  it('gives each draft its own editor model beside its template', () => {
    expect(draftModelPath('example.yaml', 1)).toBe('example.draft-1.yaml');
    expect(draftModelPath('sft/eval.yaml', 2)).toBe('sft/eval.draft-2.yaml');
  });

  it('drafts from the template, asks before replacing an existing file, and opens the saved config', async () => {
    const files: Record<string, string> = { 'example.yaml': 'run_name: example\n', 'demo.yaml': 'run_name: demo\n', 'sft/mix.yaml': 'version: 1\n' };
    const { client, calls } = fakeClient(files);
    const store = createLauncherStore(() => client);
    await store.getState().loadConfigs();
    expect(store.getState().template).toBe('example.yaml');
    await store.getState().newFromTemplate();
    expect(store.getState()).toMatchObject({ path: null, draftFrom: 'example.yaml', text: 'run_name: example\n' });
    store.getState().setText('run_name: mine\n');

    store.getState().setSaveAsName('demo.yaml');
    expect(await store.getState().saveAs()).toBe(false);
    expect(store.getState().confirmOverwrite).toBe('demo.yaml');
    expect(files['demo.yaml']).toBe('run_name: demo\n');
    expect(calls).toEqual([]);

    store.getState().setSaveAsName('mine.yaml');
    expect(store.getState().confirmOverwrite).toBeNull();
    expect(await store.getState().saveAs()).toBe(true);
    expect(files['mine.yaml']).toBe('run_name: mine\n');
    expect(store.getState()).toMatchObject({ path: 'mine.yaml', draftFrom: null, savedText: 'run_name: mine\n', openKind: 'run' });
    expect(store.getState().configs.filter((c) => c.kind === 'run')[store.getState().selected.run].path).toBe('mine.yaml');

    // A file that appeared after the list was read: the server's FILE_EXISTS asks for the same confirmation.
    files['late.yaml'] = 'run_name: late\n';
    store.getState().setSaveAsName('late.yaml');
    expect(await store.getState().saveAs()).toBe(false);
    expect(store.getState().confirmOverwrite).toBe('late.yaml');
    expect(store.getState().error).toBeNull();
    expect(await store.getState().saveAs(true)).toBe(true);
    expect(files['late.yaml']).toBe('run_name: mine\n');
    expect(calls).toEqual(['saveConfigAs mine.yaml', 'saveConfigAs late.yaml', 'saveConfigAs late.yaml overwrite']);
  });
});
