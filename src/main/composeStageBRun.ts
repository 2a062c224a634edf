import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunConfig } from '../shared/schemas/runConfig';
import { modelLoadMessage } from '../shared/schemas/backends';
import type { RunEvent, RunManifest } from '../shared/schemas/telemetry';
import type { Ticket } from '../shared/schemas/stageARecord';
import type { GuidanceState } from '../shared/schemas/guidance';
import { StageBError } from '../shared/errors';
import { renderExperiences } from '../shared/guidance/renderExperiences';
import { canonicalJson } from '../shared/guidance/canonicalJson';
import { loadRunConfig, type LoadedRunConfig } from './io/loadRunConfig';
import { formatModelLoadLine } from './runVersions';
import { ingestStageA } from './io/ingestStageA';
import { applyLabelCorrections, loadLabelCorrections } from './io/loadLabelCorrections';
import { loadInitialGuidance, utf8ByteTokenCount } from './io/loadInitialGuidance';
import { FsArtifactStore, RUN_FILES } from './io/FsArtifactStore';
import { openRunGuidance } from './io/GuidanceRepository';
import type { LlmBackend } from './llm/LlmBackend';
import type { GuidancePort } from './engine/ports/GuidancePort';
import { exportDistill, runStageBPipeline, type PipelineResult } from './engine/StageBPipeline';
import type { RunControl } from './engine/ports/RunControl';
import { limitTickets, splitHoldout } from './engine/epochPlan';
import { carriedTelemetryOf } from './engine/buildTelemetry';
import { hostname } from 'node:os';

/**
 * What a Stage-B run needs from its model, supplied by the caller so that this
 * composition never imports node-llama-cpp: runStageB passes the real backends,
 * the crash tests' child process a scripted one (and starts hundreds of times
 * without loading the native addon).
 */
export type StageBModelPort = {
  /**
   * Exact tokens of the experiences block before the model loads, asked only when
   * its UTF-8 byte count is over budget; null when they cannot be counted yet
   * (the open backend counts them before anything is written).
   */
  countTokensBeforeLoad(config: RunConfig, text: string): Promise<number | null>;
  open(config: RunConfig, signal?: AbortSignal): Promise<LlmBackend>;
  /** run.json's model, versions and compute: written for a fresh run, printed (model-load line) for every run. */
  describe(config: RunConfig, backend: LlmBackend): Promise<Pick<RunManifest, 'model' | 'versions' | 'compute'>>;
};

export type ComposeStageBRunOptions = {
  configPath: string;
  model: StageBModelPort;
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  /** Pause / resume at batch boundaries, driven by the workbench (PausableRunControl). */
  control?: RunControl;
  /** Injected for tests that need a fixed clock; defaults to the wall clock. */
  now?: () => string;
  /** Wraps the run's guidance repository (the crash tests kill the process right after a write). */
  guidanceStore?: (port: GuidancePort) => GuidancePort;
};

export type ValidatedRun = {
  loaded: LoadedRunConfig;
  tickets: Ticket[];
  initialGuidance: GuidanceState;
  runDir: string;
  configHash: string;
  existing: 'none' | 'resumable' | 'complete';
};

export type RunStageBResult = PipelineResult & { runDir: string; alreadyComplete: boolean };

export function runDirectoryOf(config: RunConfig): string {
  return join(config.output.root, config.run_name, config.mission);
}

export function hashConfig(config: RunConfig): string {
  // A config without label corrections hashes as it did before the key existed, so runs made then still resume.
  const { label_corrections: corrections, ...rest } = config;
  const hashed = corrections.path === null ? rest : config;
  return createHash('sha256').update(canonicalJson(hashed)).digest('hex');
}

/**
 * Everything that can be checked without loading a model, before anything is
 * written: config, Stage-A inputs, guidance and its token budget (by UTF-8 bytes,
 * which never under-count; over that, by `countTokensBeforeLoad`), and whether
 * the run directory belongs to this config.
 */
export async function validateStageBRun(configPath: string, countTokensBeforeLoad: StageBModelPort['countTokensBeforeLoad']): Promise<ValidatedRun> {
  const loaded = await loadRunConfig(configPath);
  const { config } = loaded;
  const tickets = await ingestWithLabelCorrections(config);
  const initialGuidance = await loadInitialGuidance(config.guidance.path, config.mission, {
    countTokens: utf8ByteTokenCount,
    maxTokens: Number.MAX_SAFE_INTEGER,
  });
  const block = renderExperiences(initialGuidance.experiences);
  if (utf8ByteTokenCount(block) > config.guidance.max_tokens) {
    const tokens = await countTokensBeforeLoad(config, block);
    if (tokens !== null) checkExperiencesBudget(config, tokens);
  }
  const runDir = runDirectoryOf(config);
  const configHash = hashConfig(config);
  const store = new FsArtifactStore(runDir, { exportDir: config.output.export_dir });
  const manifest = await store.readManifest();
  let existing: ValidatedRun['existing'] = 'none';
  if (manifest) {
    if (manifest.config_hash !== configHash) {
      throw new StageBError(
        'RUN_DIR_CONFLICT',
        `run directory ${runDir} holds a run made with a different config (hash ${manifest.config_hash.slice(0, 12)}, this config ${configHash.slice(0, 12)}); choose another run_name or output.root`,
        { file: join(runDir, RUN_FILES.manifest), field: 'config_hash' },
      );
    }
    await refuseChangedLabelCorrections(config, manifest, join(runDir, RUN_FILES.manifest));
    const telemetry = await store.readTelemetry();
    existing = telemetry?.status === 'completed' ? 'complete' : 'resumable';
  }
  return { loaded, tickets, initialGuidance, runDir, configHash, existing };
}

/**
 * The run's tickets: every line validated, max_tickets applied by the input's labels (so
 * a rerun with corrections sees the same tickets), then the config's label corrections,
 * checked against the whole input.
 */
async function ingestWithLabelCorrections(config: RunConfig): Promise<Ticket[]> {
  const correctionsFile = config.label_corrections.path;
  if (correctionsFile === null) return (await ingestStageA({ paths: config.stage_a_paths, mission: config.mission, maxTickets: config.runner.max_tickets })).tickets;
  const { tickets: all } = await ingestStageA({ paths: config.stage_a_paths, mission: config.mission });
  const corrections = await loadLabelCorrections(correctionsFile, config.mission, all);
  const kept = config.runner.max_tickets !== null ? limitTickets(all, config.runner.max_tickets) : all;
  return applyLabelCorrections(kept, corrections);
}

/** The config hash covers the corrections file's path, not its content: a resume must see the file the run started with. */
async function refuseChangedLabelCorrections(config: RunConfig, manifest: RunManifest, manifestFile: string): Promise<void> {
  const file = config.label_corrections.path;
  const recorded = manifest.label_corrections ?? null;
  if (file === null || recorded === null) return;
  const now = await inputFingerprint(file);
  if (now.sha256 === recorded.sha256) return;
  throw new StageBError(
    'RUN_DIR_CONFLICT',
    `the label corrections file ${file} changed since this run started (sha256 ${recorded.sha256.slice(0, 12)}, now ${now.sha256.slice(0, 12)}); restore it or choose another run_name`,
    { file: manifestFile, field: 'label_corrections' },
  );
}

function checkExperiencesBudget(config: RunConfig, tokens: number): void {
  if (tokens > config.guidance.max_tokens) {
    throw new StageBError('GUIDANCE_OVER_BUDGET', `the experiences block has ${tokens} tokens, over guidance.max_tokens = ${config.guidance.max_tokens}`, { file: config.guidance.path, field: `${config.mission}.experiences` });
  }
}

/**
 * A run with progress resumes from its own guidance.json, never from the initial file:
 * recreating it at step 0 would sample later batches with guidance the run never had.
 */
async function refuseResumeWithoutGuidance(store: FsArtifactStore): Promise<void> {
  const file = store.path(RUN_FILES.guidance);
  const present = await stat(file).then(() => true, () => false);
  if (present) return;
  const [selections, reflections] = await Promise.all([store.readSelections(), store.readReflections()]);
  if (selections.length === 0 && reflections.length === 0) return;
  const lastStep = Math.max(0, ...selections.map((row) => row.guidance_step), ...reflections.map((row) => row.reflection.guidance_step_after));
  throw new StageBError(
    'GUIDANCE_NOT_FOUND',
    `the run has progress (${selections.length} selections, ${reflections.length} reflections, guidance step ${lastStep}) but its guidance file is missing; restore it from ${store.path(RUN_FILES.snapshots)} or start a new run_name`,
    { file, field: 'guidance' },
  );
}

/** The run's train/holdout split: seeded, so every process of a run and every rerun gets the same one. */
function holdoutSplitOf(config: RunConfig, tickets: Ticket[]): { train: Ticket[]; holdout: Ticket[] } {
  const labelled = tickets.filter((ticket) => ticket.label !== null).length;
  return config.reflection.enabled && labelled > 0
    ? splitHoldout(tickets, { fraction: config.reflection.holdout_fraction, max: config.reflection.holdout_max, seed: config.seed })
    : { train: tickets, holdout: [] };
}

async function inputFingerprint(path: string): Promise<{ path: string; sha256: string; lines: number }> {
  const data = await readFile(path);
  let lines = 0;
  for (const byte of data) if (byte === 10) lines++;
  if (data.length > 0 && data[data.length - 1] !== 10) lines++;
  return { path, sha256: createHash('sha256').update(data).digest('hex'), lines };
}

/**
 * The one composition of a Stage-B run (the spec's StageBPipeline.run_all):
 * validate → open the model → manifest, guidance repository, holdout split →
 * runStageBPipeline (rollout/signals/select → reflect/apply → export → distill).
 * It raises on bad input before touching the run directory, leaves a completed
 * run exactly as it is, and leaves partial outputs for inspection when a later
 * phase fails.
 */
export async function composeStageBRun(options: ComposeStageBRunOptions): Promise<RunStageBResult> {
  const now = options.now ?? (() => new Date().toISOString());
  const report = options.onEvent ?? (() => undefined);
  // Phases before the run directory exists are kept and written to events.jsonl once it does.
  const earlyEvents: RunEvent[] = [];
  const onEvent = (event: RunEvent) => {
    earlyEvents.push(event);
    report(event);
  };
  const startedAt = now();
  const t0 = Date.now();
  onEvent({ type: 'phase', ts: now(), phase: 'validate', message: `validating ${options.configPath}` });
  const validated = await validateStageBRun(options.configPath, options.model.countTokensBeforeLoad);
  const { config } = validated.loaded;
  const ingestMs = Date.now() - t0;
  const store = new FsArtifactStore(validated.runDir, { exportDir: config.output.export_dir });
  if (validated.existing === 'complete') {
    // A finished run is left exactly as it is: a rerun with the same config and seed changes
    // nothing, except that a missing or changed distill corpus is written again (no model needed).
    let telemetry = (await store.readTelemetry())!;
    if (config.stage_b_distillation.enabled) {
      const { train } = holdoutSplitOf(config, validated.tickets);
      const { written, ...distill } = await exportDistill({ config, store, train }, await store.readSelections(), await store.readReflections());
      if (written) {
        telemetry = { ...telemetry, distill };
        await store.writeTelemetry(telemetry);
        onEvent({ type: 'phase', ts: now(), phase: 'distill', message: `rewrote the distill corpus ${distill.path} (${distill.rows} rows): it was missing or differed from the run's` });
      }
    }
    onEvent({ type: 'done', ts: now(), status: 'completed', message: `run already complete in ${validated.runDir}; nothing to do` });
    return { status: 'completed', telemetry, exportPaths: null, distillPath: telemetry.distill.path, runDir: validated.runDir, alreadyComplete: true };
  }

  onEvent({ type: 'phase', ts: now(), phase: 'model_load', message: modelLoadMessage(config.model) });
  const loadStarted = Date.now();
  const backend = await options.model.open(config, options.signal);
  const modelLoadMs = Date.now() - loadStarted;
  const batching = backend.info.decodeBatching;
  if (batching) {
    const mode = batching.batched ? 'candidates decode together' : 'candidates decode one at a time';
    const exact = batching.exact === null ? 'exactness not checked' : batching.exact ? 'bit-identical to the sequential path' : 'not bit-identical to the sequential path';
    onEvent({ type: 'phase', ts: now(), phase: 'model_load', message: `${mode}, ${exact}: ${batching.reason}` });
  }
  try {
    // Described for every run, resumed ones too, so the log always says what ran the model.
    const description = await options.model.describe(config, backend);
    onEvent({ type: 'phase', ts: now(), phase: 'model_load', message: formatModelLoadLine(description) });
    checkExperiencesBudget(config, await backend.countTextTokens(renderExperiences(validated.initialGuidance.experiences)));
    const promptBudget = config.sampler.max_prompt_tokens ?? backend.info.contextSize - config.sampler.max_new_tokens;

    await store.ensureDir();
    for (const event of earlyEvents.splice(0)) await store.appendEvent(event);
    const repository = openRunGuidance({ missionDir: store.runDir, mission: config.mission, retention: config.guidance.snapshot_retention });
    if (validated.existing === 'none') {
      await store.writeManifest({
        run_name: config.run_name,
        mission: config.mission,
        seed: config.seed,
        config: config as unknown as Record<string, unknown>,
        config_hash: validated.configHash,
        ...description,
        inputs: await Promise.all(config.stage_a_paths.map(inputFingerprint)),
        label_corrections: config.label_corrections.path === null ? null : await inputFingerprint(config.label_corrections.path),
        created_at: startedAt,
      });
    }
    if (validated.existing === 'resumable') await refuseResumeWithoutGuidance(store);
    await repository.initialize(validated.initialGuidance);

    const split = holdoutSplitOf(config, validated.tickets);

    // A resume adds to what earlier processes spent; its start is listed, the first start kept.
    const carried = validated.existing === 'resumable' ? carriedTelemetryOf(await store.readTelemetry()) : null;
    const result = await runStageBPipeline({
      config,
      train: split.train,
      holdout: split.holdout,
      store,
      guidance: options.guidanceStore ? options.guidanceStore(repository) : repository,
      backend,
      now,
      onEvent: report,
      signal: options.signal,
      control: options.control,
      promptBudget,
      timings: { ingest: ingestMs, model_load: modelLoadMs },
      startedAt,
      carried,
      guidanceFile: store.path(RUN_FILES.guidance),
      host: { pid: process.pid, hostname: hostname() },
    });
    return { ...result, runDir: validated.runDir, alreadyComplete: false };
  } finally {
    await backend.close().catch(() => undefined);
  }
}
