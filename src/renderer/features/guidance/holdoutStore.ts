import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../../../shared/api/transport';
import type { ApiEvent, JobInfo, RunRef } from '../../../shared/api/contract';
import type { AttributionResult, PreviewResult } from '../../../shared/schemas/holdoutComparison';
import type { SerializedError } from '../../../shared/errors';
import { toSerializedError } from '../../shared/asyncState';
import { applyJobEvent, newJobProgress, type JobProgress } from '../launcher/jobProgress';
import { isRunning } from './holdoutEffects';

export type HoldoutState = {
  ref: RunRef | null;
  /** The newest attribution measured for this run (the current step's, else the latest step's). */
  attribution: AttributionResult | null;
  /** The step the current guidance is at, and whether the attribution of that step is stale (hand edit). */
  currentStep: number | null;
  stale: boolean;
  attributionJob: JobProgress | null;
  attributionError: SerializedError | null;
  preview: PreviewResult | null;
  previewJob: JobProgress | null;
  previewError: SerializedError | null;
  /** The draft text a preview evaluated, so the panel says when the draft changed since. */
  previewedDraft: string | null;
  load(ref: RunRef): Promise<void>;
  loadAttribution(): Promise<void>;
  startAttribution(force?: boolean): Promise<void>;
  startPreview(experiences: Record<string, string>): Promise<void>;
  cancel(kind: 'attribution' | 'preview'): Promise<void>;
  closePreview(): void;
  onEvent(event: ApiEvent): void;
  /** Catches up with jobs whose pushed events were missed (a reconnect): reads listJobs while one runs. */
  poll(): Promise<void>;
};

const draftKey = (experiences: Record<string, string>) => JSON.stringify(Object.entries(experiences).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Measured effects of guidance on the run's holdout, as jobs in the engine process:
 * "Attribute rules" (each rule left out vs kept, cached per step) and "Evaluate on
 * holdout" (the editor's draft vs the current guidance, before saving).
 */
export function createHoldoutStore(client: () => ApiClient) {
  return createStore<HoldoutState>()((set, get) => {
    async function finished(kind: 'attribution' | 'preview', job: JobProgress) {
      if (kind === 'attribution') {
        if (job.status === 'completed') await get().loadAttribution();
        else if (job.status === 'failed') set({ attributionError: job.error ?? { code: 'INTERNAL', message: 'the attribution job failed', location: {} } });
        return;
      }
      const { ref } = get();
      if (!ref) return;
      if (job.status === 'completed') {
        try {
          const { result } = await client().previewResult({ ...ref, jobId: job.jobId });
          if (get().previewJob?.jobId !== job.jobId) return;
          set(result ? { preview: result, previewError: null } : { previewError: { code: 'INTERNAL', message: 'the preview job finished without a result', location: {} } });
        } catch (error) {
          set({ previewError: toSerializedError(error) });
        }
      } else if (job.status === 'failed') {
        set({ previewError: job.error ?? { code: 'INTERNAL', message: 'the preview job failed', location: {} } });
      }
    }

    function follow(kind: 'attribution' | 'preview', next: JobProgress) {
      const key = kind === 'attribution' ? 'attributionJob' : 'previewJob';
      const before = get()[key];
      set({ [key]: next } as Partial<HoldoutState>);
      if (isRunning(before) && !isRunning(next)) void finished(kind, next);
    }

    return {
      ref: null,
      attribution: null,
      currentStep: null,
      stale: false,
      attributionJob: null,
      attributionError: null,
      preview: null,
      previewJob: null,
      previewError: null,
      previewedDraft: null,
      async load(ref) {
        const same = get().ref?.runId === ref.runId && get().ref?.mission === ref.mission;
        if (!same) set({ ref, attribution: null, currentStep: null, stale: false, attributionJob: null, attributionError: null, preview: null, previewJob: null, previewError: null, previewedDraft: null });
        await get().loadAttribution();
        // A job started before a reload keeps running in the engine process: pick it up again.
        try {
          const { jobs } = await client().listJobs({});
          const mine = (kind: JobInfo['kind']) => jobs.filter((j) => j.kind === kind && j.run?.runId === ref.runId && j.run.mission === ref.mission).at(-1);
          const attribution = mine('attribution');
          if (attribution && !get().attributionJob && (attribution.status === 'running' || attribution.status === 'starting')) {
            let p: JobProgress = { ...newJobProgress(attribution.jobId), status: attribution.status };
            if (attribution.last_event) p = applyJobEvent(p, { type: 'run_event', jobId: attribution.jobId, event: attribution.last_event });
            set({ attributionJob: { ...p, status: attribution.status } });
          }
        } catch {
          // Jobs are optional here: the editor works without them.
        }
      },
      async loadAttribution() {
        const { ref } = get();
        if (!ref) return;
        try {
          const current = await client().attributionResult(ref);
          let { result } = current;
          const latest = current.steps.at(-1);
          if (!result && latest !== undefined) result = (await client().attributionResult({ ...ref, step: latest })).result;
          set({ attribution: result, currentStep: current.current_step, stale: current.stale, attributionError: null });
        } catch (error) {
          set({ attributionError: toSerializedError(error) });
        }
      },
      async startAttribution(force = false) {
        const { ref } = get();
        if (!ref || isRunning(get().attributionJob)) return;
        set({ attributionError: null });
        try {
          const { jobId } = await client().attributionStart({ ...ref, force });
          set({ attributionJob: newJobProgress(jobId) });
        } catch (error) {
          set({ attributionError: toSerializedError(error) });
        }
      },
      async startPreview(experiences) {
        const { ref } = get();
        if (!ref || isRunning(get().previewJob)) return;
        set({ preview: null, previewError: null, previewedDraft: draftKey(experiences) });
        try {
          const { jobId } = await client().previewStart({ ...ref, draft: { experiences } });
          set({ previewJob: newJobProgress(jobId) });
        } catch (error) {
          set({ previewError: toSerializedError(error), previewedDraft: null });
        }
      },
      async cancel(kind) {
        const job = kind === 'attribution' ? get().attributionJob : get().previewJob;
        if (!job || !isRunning(job)) return;
        try {
          await client().cancelRun({ jobId: job.jobId });
        } catch (error) {
          set(kind === 'attribution' ? { attributionError: toSerializedError(error) } : { previewError: toSerializedError(error) });
        }
      },
      closePreview() {
        if (!isRunning(get().previewJob)) set({ preview: null, previewJob: null, previewError: null, previewedDraft: null });
      },
      onEvent(event) {
        const { attributionJob, previewJob } = get();
        if (attributionJob && event.jobId === attributionJob.jobId) follow('attribution', applyJobEvent(attributionJob, event));
        if (previewJob && event.jobId === previewJob.jobId) follow('preview', applyJobEvent(previewJob, event));
      },
      async poll() {
        const { attributionJob, previewJob } = get();
        if (!isRunning(attributionJob) && !isRunning(previewJob)) return;
        try {
          const { jobs } = await client().listJobs({});
          for (const [kind, job] of [['attribution', attributionJob], ['preview', previewJob]] as const) {
            const info = job && isRunning(job) ? jobs.find((j) => j.jobId === job.jobId) : undefined;
            if (info && info.status !== job!.status && !(info.status === 'running' && job!.status === 'starting')) {
              follow(kind, { ...job!, status: info.status, error: info.error ?? job!.error });
            }
          }
        } catch {
          // Retried on the next tick.
        }
      },
    };
  });
}

export type HoldoutStore = ReturnType<typeof createHoldoutStore>;

/** True when the editor's draft is not the text the shown preview evaluated. */
export function previewIsOutdated(state: Pick<HoldoutState, 'previewedDraft'>, experiences: Record<string, string>): boolean {
  return state.previewedDraft !== null && state.previewedDraft !== draftKey(experiences);
}
