import path from 'node:path';
import { StageBError } from '../shared/errors';
import { RunConfigSchema, type RunConfig } from '../shared/schemas/runConfig';
import { modelLoadMessage } from '../shared/schemas/backends';
import type { RunEvent } from '../shared/schemas/telemetry';
import type { Ticket } from '../shared/schemas/stageARecord';
import type { GuidanceState } from '../shared/schemas/guidance';
import type { AttributionResult, HoldoutVerdict, PreviewResult } from '../shared/schemas/holdoutComparison';
import { experiencesHash } from '../shared/guidance/experiencesHash';
import { sha256Hex } from '../shared/guidance/sha256Hex';
import { canonicalJson } from '../shared/guidance/canonicalJson';
import { loadRunConfig } from './io/loadRunConfig';
import { ingestStageA } from './io/ingestStageA';
import { FsArtifactStore, RUN_FILES } from './io/FsArtifactStore';
import { openRunGuidance } from './io/GuidanceRepository';
import { attributionPath, readAttribution, writeAttribution } from './io/attributionFiles';
import { writePreviewResult, type PreviewDraft } from './io/previewFiles';
import { createBackend } from './llm/createBackend';
import type { LlmBackend } from './llm/LlmBackend';
import { splitHoldout } from './engine/epochPlan';
import { evaluateHoldout } from './engine/evaluateHoldout';
import { attributeRules, type HoldoutVariant } from './engine/attributeRules';
import { previewDraft } from './engine/previewDraft';
import { hashConfig, runDirectoryOf } from './composeStageBRun';

/**
 * Attribution and preview over a run that exists: its config (from the config file, or
 * from run.json when only the run directory is known, as the workbench knows it), its
 * holdout recomputed by the run's own split (same tickets, same seed), its current
 * guidance, and the configured model. Everything the engine computes is in
 * engine/attributeRules.ts and engine/previewDraft.ts; this module only wires IO.
 */

/** A run named by its config file (CLI) or by its run directory (workbench jobs). */
export type HoldoutStudyTarget = { configPath: string } | { runDir: string };

export type HoldoutStudyOptions = {
  target: HoldoutStudyTarget;
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  now?: () => string;
  /** The model; default: the configured backend (llama.cpp in process or an OpenAI-compatible server). */
  openBackend?: (config: RunConfig, signal?: AbortSignal) => Promise<LlmBackend>;
};

type StudyRun = { config: RunConfig; runDir: string; guidance: GuidanceState; holdout: Ticket[] };

async function loadStudyRun(target: HoldoutStudyTarget): Promise<StudyRun> {
  let config: RunConfig;
  let runDir: string;
  if ('configPath' in target) {
    config = (await loadRunConfig(target.configPath)).config;
    runDir = runDirectoryOf(config);
  } else {
    runDir = path.resolve(target.runDir);
    const manifest = await new FsArtifactStore(runDir).readManifest();
    if (!manifest) throw new StageBError('INPUT_NOT_FOUND', `no ${RUN_FILES.manifest} in ${runDir}: not a run directory, or a run that never started`, { file: path.join(runDir, RUN_FILES.manifest) });
    const parsed = RunConfigSchema.safeParse(manifest.config);
    if (!parsed.success) throw new StageBError('CONFIG_INVALID', `the config in ${RUN_FILES.manifest} does not validate: ${parsed.error.issues[0].message}`, { file: path.join(runDir, RUN_FILES.manifest), field: `config.${parsed.error.issues[0].path.join('.')}` });
    config = parsed.data;
  }
  const store = new FsArtifactStore(runDir);
  const manifest = await store.readManifest();
  if (!manifest) throw new StageBError('INPUT_NOT_FOUND', `${runDir} holds no run of this config yet; run \`stageb run\` first`, { file: path.join(runDir, RUN_FILES.manifest) });
  if ('configPath' in target && manifest.config_hash !== hashConfig(config)) {
    throw new StageBError('RUN_DIR_CONFLICT', `run directory ${runDir} holds a run made with a different config; its holdout and guidance are not this config's`, { file: path.join(runDir, RUN_FILES.manifest), field: 'config_hash' });
  }
  const guidance = await openRunGuidance({ missionDir: store.runDir, mission: config.mission, retention: config.guidance.snapshot_retention }).read();
  const { tickets } = await ingestStageA({ paths: config.stage_a_paths, mission: config.mission, maxTickets: config.runner.max_tickets });
  // The run's own split (composeStageBRun): the same tickets the reflection gate evaluated on.
  const { holdout } = splitHoldout(tickets, { fraction: config.reflection.holdout_fraction, max: config.reflection.holdout_max, seed: config.seed });
  if (holdout.length === 0) {
    throw new StageBError('INPUT_EMPTY', `the run has no labelled holdout ticket (reflection.holdout_fraction = ${config.reflection.holdout_fraction}, ${tickets.filter((t) => t.label !== null).length} labelled tickets): nothing to measure on`, { field: 'reflection.holdout_fraction' });
  }
  return { config, runDir, guidance, holdout };
}

function describeHoldout(config: RunConfig, holdout: readonly Ticket[]): AttributionResult['holdout'] {
  return {
    tickets: holdout.length,
    pass: holdout.filter((t) => t.label === 'pass').length,
    fail: holdout.filter((t) => t.label === 'fail').length,
    candidates: config.sampler.candidates,
    fingerprint: sha256Hex(canonicalJson(holdout.map((t) => t.ticket_key).sort())).slice(0, 32),
  };
}

/** Opens the model and returns an evaluator that reports one progress event per ticket. */
async function withEvaluator<T>(
  run: StudyRun,
  options: HoldoutStudyOptions,
  phase: 'attribution' | 'preview',
  body: (evaluate: (variant: HoldoutVariant) => Promise<HoldoutVerdict[]>) => Promise<T>,
): Promise<T> {
  const now = options.now ?? (() => new Date().toISOString());
  const emit = options.onEvent ?? (() => undefined);
  const { config } = run;
  emit({ type: 'phase', ts: now(), phase: 'model_load', message: modelLoadMessage(config.model) });
  const backend = await (options.openBackend ?? ((c, signal) => createBackend(c.model, { signal })))(config, options.signal);
  try {
    const promptBudget = config.sampler.max_prompt_tokens ?? backend.info.contextSize - config.sampler.max_new_tokens;
    const started = Date.now();
    const generatedAtStart = backend.tokenMeter().generated;
    const perVariant = run.holdout.length;
    return await body(async (variant) => {
      emit({ type: 'phase', ts: now(), phase, message: `${variant.index + 1}/${variant.total}: ${variant.label} on ${perVariant} holdout tickets` });
      return evaluateHoldout(
        {
          backend,
          config,
          tickets: run.holdout,
          promptBudget,
          signal: options.signal,
          onTicket: (done) => {
            const groupsDone = variant.index * perVariant + done;
            const groupsTotal = variant.total * perVariant;
            const elapsed = Date.now() - started;
            emit({
              type: 'progress',
              ts: now(),
              epoch: 0,
              epochs: 1,
              batch_index: variant.index,
              batches: variant.total,
              groups_done: groupsDone,
              groups_total: groupsTotal,
              // One pass over the holdout: the study is its own single epoch.
              epoch_groups_done: groupsDone,
              epoch_groups_total: groupsTotal,
              tokens_per_second: elapsed > 0 ? ((backend.tokenMeter().generated - generatedAtStart) * 1000) / elapsed : 0,
              eta_ms: groupsDone > 0 ? (elapsed * (groupsTotal - groupsDone)) / groupsDone : null,
            });
          },
        },
        variant.experiences,
      );
    });
  } finally {
    await backend.close().catch(() => undefined);
  }
}

export type AttributionOutcome = { result: AttributionResult; file: string; reused: boolean };

/**
 * `stageb attribute`: every rule of the run's current guidance left out and kept, on the
 * run's holdout. Cached per guidance step (attribution/step-<N>.json); a cached result is
 * reused while the step's experiences and the holdout are unchanged, unless `force`.
 */
export async function runAttribution(options: HoldoutStudyOptions & { force?: boolean }): Promise<AttributionOutcome> {
  const now = options.now ?? (() => new Date().toISOString());
  const emit = options.onEvent ?? (() => undefined);
  const run = await loadStudyRun(options.target);
  const { config, guidance, holdout } = run;
  const holdoutInfo = describeHoldout(config, holdout);
  const hash = experiencesHash(guidance.experiences);
  if (!options.force) {
    const cached = await readAttribution(run.runDir, guidance.step).catch(() => null);
    if (cached && cached.experiences_hash === hash && cached.holdout.fingerprint === holdoutInfo.fingerprint) {
      emit({ type: 'done', ts: now(), status: 'completed', message: `attribution of guidance step ${guidance.step} already measured; reused (--force measures again)` });
      return { result: cached, file: attributionPath(run.runDir, guidance.step), reused: true };
    }
  }
  const rules = Object.keys(guidance.experiences).length;
  emit({ type: 'phase', ts: now(), phase: 'attribution', message: `guidance step ${guidance.step}: ${rules} rules, ${holdout.length} holdout tickets (${holdoutInfo.fail} fail), ${rules + 1} evaluations` });
  const measured = await withEvaluator(run, options, 'attribution', (evaluate) =>
    attributeRules({ experiences: guidance.experiences, metadata: guidance.metadata, evaluate, bootstrapSamples: config.reflection.bootstrap_samples, seed: config.seed, signal: options.signal }),
  );
  const result: AttributionResult = {
    kind: 'attribution',
    schema_version: 1,
    run_name: config.run_name,
    mission: config.mission,
    guidance_step: guidance.step,
    experiences_hash: hash,
    holdout: holdoutInfo,
    created_at: now(),
    ...measured,
  };
  const file = await writeAttribution(run.runDir, result);
  emit({ type: 'done', ts: now(), status: 'completed', message: `attribution of guidance step ${guidance.step} written to ${file}` });
  return { result, file, reused: false };
}

/**
 * `stageb preview`: a draft guidance against the run's current guidance on its holdout;
 * the result goes to preview/<id>.json.
 */
export async function runPreview(options: HoldoutStudyOptions & { draft: PreviewDraft; id: string }): Promise<{ result: PreviewResult; file: string }> {
  const now = options.now ?? (() => new Date().toISOString());
  const emit = options.onEvent ?? (() => undefined);
  const run = await loadStudyRun(options.target);
  const { config, guidance, holdout } = run;
  emit({ type: 'phase', ts: now(), phase: 'preview', message: `draft (${Object.keys(options.draft.experiences).length} rules) vs guidance step ${guidance.step} on ${holdout.length} holdout tickets` });
  const outcome = await withEvaluator(run, options, 'preview', (evaluate) =>
    previewDraft({ current: guidance.experiences, draft: options.draft.experiences, evaluate, gate: config.reflection, seed: config.seed, signal: options.signal }),
  );
  const result: PreviewResult = {
    kind: 'preview',
    schema_version: 1,
    run_name: config.run_name,
    mission: config.mission,
    guidance_step: guidance.step,
    experiences_hash: experiencesHash(guidance.experiences),
    holdout: describeHoldout(config, holdout),
    created_at: now(),
    preview_id: options.id,
    draft: options.draft,
    ...outcome,
  };
  const file = await writePreviewResult(run.runDir, result);
  emit({ type: 'done', ts: now(), status: 'completed', message: `preview written to ${file}` });
  return { result, file };
}
