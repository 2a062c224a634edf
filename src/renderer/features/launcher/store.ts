import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { ApiEvent, ConfigValidation, JobInfo } from '../../../shared/api/contract';
import type { SerializedError } from '../../../shared/errors';
import { toSerializedError } from '../../shared/asyncState';
import { applyJobEvent, isLiveJob, newJobProgress, type JobProgress } from './jobProgress';

type ConfigEntry = { path: string; size_bytes: number; modified_at: string };

export type LauncherState = {
  configs: ConfigEntry[];
  selected: number;
  path: string | null;
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
  select(index: number): void;
  openConfig(path: string): Promise<void>;
  setText(text: string): void;
  validate(): Promise<void>;
  setKind(kind: 'stage_b' | 'distill'): void;
  start(): Promise<void>;
  cancel(jobId: string): Promise<void>;
  pause(jobId: string): Promise<void>;
  resume(jobId: string): Promise<void>;
  onEvent(event: ApiEvent): void;
};

/** Launcher: pick or edit a config (validated on the server's schema), start a run, follow its events. */
export function createLauncherStore(client: () => ApiClient) {
  return createStore<LauncherState>()((set, get) => ({
    configs: [],
    selected: 0,
    path: null,
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
        set({ configs, jobs, progress, activeJob: get().activeJob ?? running?.jobId ?? null, error: null });
      } catch (error) {
        set({ error: toSerializedError(error) });
      }
    },
    select(selected) {
      set({ selected });
    },
    async openConfig(path) {
      set({ busy: true, error: null });
      try {
        const { text } = await client().readConfig({ path });
        set({ path, text, savedText: text, validation: null });
        await get().validate();
      } catch (error) {
        set({ error: toSerializedError(error) });
      } finally {
        set({ busy: false });
      }
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
    async start() {
      const { path, text, savedText, kind } = get();
      if (!path) return;
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
