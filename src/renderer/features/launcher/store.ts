import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import { ConfigFileNameSchema, type ApiEvent, type ConfigEntry, type ConfigValidation, type JobInfo } from '../../../shared/api/contract';
import type { ConfigKind } from '../../../shared/configKind';
import type { SerializedError } from '../../../shared/errors';
import { toSerializedError } from '../../shared/asyncState';
import { applyJobEvent, isLiveJob, newJobProgress, type JobProgress } from './jobProgress';

/** The groups the launcher lists, in order: run configs first (they start), then the distillation flow's others. */
export const CONFIG_GROUPS: { kind: ConfigKind; title: string; note: string }[] = [
  { kind: 'run', title: 'Run configs', note: '' },
  { kind: 'fusion', title: 'Fusion configs', note: 'SFT data sources; read by the SFT trainer (docs/distillation.md), not started here' },
  { kind: 'sft', title: 'SFT configs', note: 'SFT mixes; read by the SFT trainer (docs/distillation.md), not started here' },
  { kind: 'unknown', title: 'Other YAML', note: 'not a run, fusion or SFT config' },
];

/** "demo · BBU接地线检查 (stage_b)": the run and mission a job writes or measures; the config file name when it has none. */
export function jobTitle(job: Pick<JobInfo, 'kind' | 'configPath' | 'run'>): string {
  const what = job.run ? `${job.run.runId} · ${job.run.mission}` : (job.configPath.split(/[\\/]/).pop() ?? job.configPath);
  return `${what} (${job.kind})`;
}

/** The editor model of a draft: beside its template (so a relative `$schema=` line resolves as in the template), never the template's own model. */
export function draftModelPath(template: string, serial: number): string {
  return template.replace(/(\.ya?ml)?$/, `.draft-${serial}.yaml`);
}

/** The error of a proposed new config name, or null when it is a plain .yaml file name. */
export function configNameError(name: string): string | null {
  if (name.trim() === '') return 'a file name ending .yaml';
  const parsed = ConfigFileNameSchema.safeParse(name);
  return parsed.success ? null : parsed.error.issues[0].message;
}

export type LauncherState = {
  configs: ConfigEntry[];
  /** The highlighted row of each kind's list; only the list last used (activeGroup) shows its row. */
  selected: Record<ConfigKind, number>;
  activeGroup: ConfigKind;
  /** The open config file, or null for none / a draft. */
  path: string | null;
  /** The open config's kind (a draft's is its template's). */
  openKind: ConfigKind;
  /** A new config being drafted from this template (not saved yet). */
  draftFrom: string | null;
  template: string | null;
  /** Counts drafts, so each gets its own editor model. */
  draftSerial: number;
  saveAsName: string;
  /** Set when Save as hit an existing file: the name to overwrite once confirmed. */
  confirmOverwrite: string | null;
  text: string;
  savedText: string;
  validation: ConfigValidation | null;
  error: SerializedError | null;
  busy: boolean;
  kind: 'stage_b' | 'distill';
  jobs: JobInfo[];
  progress: Record<string, JobProgress>;
  activeJob: string | null;
  loadConfigs(): Promise<void>;
  select(kind: ConfigKind, index: number): void;
  focusGroup(kind: ConfigKind): void;
  openConfig(path: string): Promise<void>;
  setTemplate(path: string): void;
  newFromTemplate(): Promise<void>;
  setSaveAsName(name: string): void;
  saveAs(overwrite?: boolean): Promise<boolean>;
  cancelOverwrite(): void;
  setText(text: string): void;
  validate(): Promise<void>;
  setKind(kind: 'stage_b' | 'distill'): void;
  /** Saves the open config in place (the launcher's Save for configs that are not started). */
  save(): Promise<void>;
  start(): Promise<void>;
  cancel(jobId: string): Promise<void>;
  pause(jobId: string): Promise<void>;
  resume(jobId: string): Promise<void>;
  onEvent(event: ApiEvent): void;
};

/** Launcher: pick, draft or edit a config (validated on the server's schema for its kind), start a run, follow its events. */
export function createLauncherStore(client: () => ApiClient) {
  return createStore<LauncherState>()((set, get) => ({
    configs: [],
    selected: { run: 0, fusion: 0, sft: 0, unknown: 0 },
    activeGroup: 'run',
    path: null,
    openKind: 'run',
    draftFrom: null,
    template: null,
    draftSerial: 0,
    saveAsName: '',
    confirmOverwrite: null,
    text: '',
    savedText: '',
    validation: null,
    error: null,
    busy: false,
    kind: 'stage_b',
    jobs: [],
    progress: {},
    activeJob: null,
    async loadConfigs() {
      try {
        const [{ configs }, { jobs }] = await Promise.all([client().listConfigs({}), client().listJobs({})]);
        const progress = { ...get().progress };
        for (const job of jobs) {
          if (progress[job.jobId]) continue;
          let p = { ...newJobProgress(job.jobId), status: job.status, error: job.error };
          if (job.last_event) p = applyJobEvent(p, { type: 'run_event', jobId: job.jobId, event: job.last_event });
          progress[job.jobId] = { ...p, status: job.status };
        }
        const running = jobs.find((j) => isLiveJob(j.status));
        const runs = configs.filter((c) => c.kind === 'run');
        const template = get().template && runs.some((c) => c.path === get().template) ? get().template : (runs.find((c) => c.path === 'example.yaml') ?? runs[0])?.path ?? null;
        set({ configs, jobs, progress, template, activeJob: get().activeJob ?? running?.jobId ?? null, error: null });
      } catch (error) {
        set({ error: toSerializedError(error) });
      }
    },
    select(kind, index) {
      set({ selected: { ...get().selected, [kind]: index }, activeGroup: kind });
    },
    focusGroup(activeGroup) {
      if (get().activeGroup !== activeGroup) set({ activeGroup });
    },
    async openConfig(path) {
      set({ busy: true, error: null });
      try {
        const { text } = await client().readConfig({ path });
        const entry = get().configs.find((c) => c.path === path);
        set({ path, openKind: entry?.kind ?? 'run', draftFrom: null, confirmOverwrite: null, text, savedText: text, validation: null, kind: 'stage_b' });
        await get().validate();
      } catch (error) {
        set({ error: toSerializedError(error) });
      } finally {
        set({ busy: false });
      }
    },
    setTemplate(template) {
      set({ template });
    },
    async newFromTemplate() {
      const { template } = get();
      if (!template) return;
      set({ busy: true, error: null });
      try {
        const { text } = await client().readConfig({ path: template });
        const entry = get().configs.find((c) => c.path === template);
        // savedText '' marks the whole draft as unsaved.
        set({ path: null, draftFrom: template, draftSerial: get().draftSerial + 1, openKind: entry?.kind ?? 'run', confirmOverwrite: null, saveAsName: '', text, savedText: '', validation: null, kind: 'stage_b' });
        await get().validate();
      } catch (error) {
        set({ error: toSerializedError(error) });
      } finally {
        set({ busy: false });
      }
    },
    setSaveAsName(saveAsName) {
      set({ saveAsName, confirmOverwrite: null });
    },
    async saveAs(overwrite = false) {
      const { saveAsName: name, text } = get();
      if (configNameError(name)) return false;
      // Asked before the write; the server refuses (FILE_EXISTS) as well when the file appeared since the list was read.
      if (!overwrite && get().configs.some((c) => c.path === name)) {
        set({ confirmOverwrite: name });
        return false;
      }
      set({ busy: true, error: null });
      try {
        const saved = await client().saveConfigAs({ name, text, overwrite });
        const { configs } = await client().listConfigs({});
        const entry = configs.find((c) => c.path === saved.path);
        const kind = entry?.kind ?? get().openKind;
        const selected = { ...get().selected, [kind]: Math.max(0, configs.filter((c) => c.kind === kind).findIndex((c) => c.path === saved.path)) };
        set({ configs, selected, activeGroup: kind, path: saved.path, openKind: entry?.kind ?? get().openKind, draftFrom: null, confirmOverwrite: null, saveAsName: '', savedText: text, validation: saved.validation });
        return true;
      } catch (error) {
        const serialized = toSerializedError(error);
        if (serialized.code === 'FILE_EXISTS') set({ confirmOverwrite: name });
        else set({ error: serialized });
        return false;
      } finally {
        set({ busy: false });
      }
    },
    cancelOverwrite() {
      set({ confirmOverwrite: null });
    },
    setText(text) {
      set({ text });
    },
    async validate() {
      const { text } = get();
      try {
        const validation = await client().validateConfig({ text });
        if (get().text === text) set({ validation });
      } catch (error) {
        set({ error: toSerializedError(error) });
      }
    },
    setKind(kind) {
      set({ kind });
    },
    async save() {
      const { path, text } = get();
      if (!path) return;
      set({ busy: true, error: null });
      try {
        const saved = await client().saveConfig({ path, text });
        set({ savedText: text, validation: saved.validation });
      } catch (error) {
        set({ error: toSerializedError(error) });
      } finally {
        set({ busy: false });
      }
    },
    async start() {
      const { path, text, savedText, kind, openKind } = get();
      if (!path || openKind !== 'run') return;
      set({ busy: true, error: null });
      try {
        if (text !== savedText) {
          const saved = await client().saveConfig({ path, text });
          set({ savedText: text, validation: saved.validation });
          if (!saved.validation.ok) return;
        }
        const { jobId } = await client().startRun({ configPath: path, kind });
        set({ activeJob: jobId, progress: { ...get().progress, [jobId]: get().progress[jobId] ?? newJobProgress(jobId) } });
        void client().listJobs({}).then(({ jobs }) => set({ jobs }), () => undefined);
      } catch (error) {
        set({ error: toSerializedError(error) });
      } finally {
        set({ busy: false });
      }
    },
    async cancel(jobId) {
      try {
        await client().cancelRun({ jobId });
      } catch (error) {
        set({ error: toSerializedError(error) });
      }
    },
    async pause(jobId) {
      try {
        await client().pauseJob({ jobId });
      } catch (error) {
        set({ error: toSerializedError(error) });
      }
    },
    async resume(jobId) {
      try {
        await client().resumeJob({ jobId });
      } catch (error) {
        set({ error: toSerializedError(error) });
      }
    },
    onEvent(event) {
      const current = get().progress[event.jobId] ?? newJobProgress(event.jobId);
      const next = applyJobEvent(current, event);
      if (next !== current || !get().progress[event.jobId]) set({ progress: { ...get().progress, [event.jobId]: next } });
    },
  }));
}

export type LauncherStore = ReturnType<typeof createLauncherStore>;
