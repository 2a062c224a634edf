import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunConfig } from '../shared/schemas/runConfig';
import type { RunEvent, RunManifest } from '../shared/schemas/telemetry';
import type { Ticket } from '../shared/schemas/stageARecord';
import type { GuidanceState } from '../shared/schemas/guidance';
import { StageBError } from '../shared/errors';
import { renderExperiences } from '../shared/guidance/renderExperiences';
import { canonicalJson } from '../shared/guidance/canonicalJson';
import { loadRunConfig, type LoadedRunConfig } from './io/loadRunConfig';
import { formatModelLoadLine } from './runVersions';
import { ingestStageA } from './io/ingestStageA';
import { loadInitialGuidance, utf8ByteTokenCount } from './io/loadInitialGuidance';
import { FsArtifactStore, RUN_FILES } from './io/FsArtifactStore';
import { GuidanceRepository } from './io/GuidanceRepository';
import type { LlmBackend } from './llm/LlmBackend';
import type { GuidanceStore } from './engine/ports/ArtifactStore';
import { runStageBPipeline, type PipelineResult } from './engine/StageBPipeline';
import { splitHoldout } from './engine/epochPlan';

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
  /** Injected for tests that need a fixed clock; defaults to the wall clock. */
  now?: () => string;
  /** Wraps the run's guidance repository (the crash tests kill the process right after a write). */
  guidanceStore?: (repository: GuidanceRepository) => GuidanceStore;
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
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
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
  const { tickets } = await ingestStageA({ paths: config.stage_a_paths, mission: config.mission, maxTickets: config.runner.max_tickets });
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
    const telemetry = await store.readTelemetry();
    existing = telemetry?.status === 'completed' ? 'complete' : 'resumable';
  }
  return { loaded, tickets, initialGuidance, runDir, configHash, existing };
}

function checkExperiencesBudget(config: RunConfig, tokens: number): void {
  if (tokens > config.guidance.max_tokens) {
    throw new StageBError('GUIDANCE_OVER_BUDGET', `the experiences block has ${tokens} tokens, over guidance.max_tokens = ${config.guidance.max_tokens}`, { file: config.guidance.path, field: `${config.mission}.experiences` });
  }
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
  const onEvent = options.onEvent ?? (() => undefined);
  const startedAt = now();
  const t0 = Date.now();
  onEvent({ type: 'phase', ts: now(), phase: 'validate', message: `validating ${options.configPath}` });
  const validated = await validateStageBRun(options.configPath, options.model.countTokensBeforeLoad);
  const { config } = validated.loaded;
  const ingestMs = Date.now() - t0;
  const store = new FsArtifactStore(validated.runDir, { exportDir: config.output.export_dir });
  if (validated.existing === 'complete') {
    // A finished run is left exactly as it is: a rerun with the same config and seed changes nothing.
    const telemetry = (await store.readTelemetry())!;
    onEvent({ type: 'done', ts: now(), status: 'completed', message: `run already complete in ${validated.runDir}; nothing to do` });
    return { status: 'completed', telemetry, exportPaths: null, distillPath: telemetry.distill.path, runDir: validated.runDir, alreadyComplete: true };
  }

  onEvent({ type: 'phase', ts: now(), phase: 'model_load', message: config.model.backend === 'llama-cpp' ? `loading ${config.model.path}` : `connecting to ${config.model.base_url}` });
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
    const repository = new GuidanceRepository({
      path: store.path(RUN_FILES.guidance),
      mission: config.mission,
      snapshotDir: store.path(RUN_FILES.snapshots),
      retention: config.guidance.snapshot_retention,
    });
    if (validated.existing === 'none') {
      await store.writeManifest({
        run_name: config.run_name,
        mission: config.mission,
        seed: config.seed,
        config: config as unknown as Record<string, unknown>,
        config_hash: validated.configHash,
        ...description,
        inputs: await Promise.all(config.stage_a_paths.map(inputFingerprint)),
        created_at: startedAt,
      });
    }
    await repository.initialize(validated.initialGuidance);

    const labelled = validated.tickets.filter((ticket) => ticket.label !== null).length;
    const split = config.reflection.enabled && labelled > 0
      ? splitHoldout(validated.tickets, { fraction: config.reflection.holdout_fraction, max: config.reflection.holdout_max, seed: config.seed })
      : { train: validated.tickets, holdout: [] };

    const result = await runStageBPipeline({
      config,
      train: split.train,
      holdout: split.holdout,
      store,
      guidance: options.guidanceStore ? options.guidanceStore(repository) : repository,
      backend,
      now,
      onEvent,
      signal: options.signal,
      promptBudget,
      timings: { ingest: ingestMs, model_load: modelLoadMs },
      startedAt,
    });
    return { ...result, runDir: validated.runDir, alreadyComplete: false };
  } finally {
    await backend.close().catch(() => undefined);
  }
}
