import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { RunConfig } from '../shared/schemas/runConfig';
import type { RunEvent } from '../shared/schemas/telemetry';
import type { Ticket } from '../shared/schemas/stageARecord';
import type { GuidanceState } from '../shared/schemas/guidance';
import { StageBError, toStageBError } from '../shared/errors';
import { renderExperiences } from '../shared/guidance/renderExperiences';
import { canonicalJson } from '../shared/guidance/canonicalJson';
import { loadRunConfig, type LoadedRunConfig } from './io/loadRunConfig';
import { ingestStageA } from './io/ingestStageA';
import { loadInitialGuidance } from './io/loadInitialGuidance';
import { FsArtifactStore, RUN_FILES } from './io/FsArtifactStore';
import { GuidanceRepository } from './io/GuidanceRepository';
import { createBackend } from './llm/createBackend';
import type { LlmBackend } from './llm/LlmBackend';
import { runStageBPipeline, type PipelineResult } from './engine/StageBPipeline';
import { splitHoldout } from './engine/epochPlan';
import { buildExportRows } from './engine/buildExportRows';

export type RunStageBOptions = {
  configPath: string;
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  /** Injected for tests that need a fixed clock; defaults to the wall clock. */
  now?: () => string;
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

/** A conservative pre-load token count: no tokenizer yields more tokens than UTF-8 bytes. */
export function utf8TokenUpperBound(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function runDirectoryOf(config: RunConfig): string {
  return join(config.output.root, config.run_name, config.mission);
}

export function hashConfig(config: RunConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/**
 * Everything that can be checked without a model, before anything is written:
 * config, Stage-A inputs, guidance and its token budget (with a byte count, which
 * never under-counts), and whether the run directory belongs to this config.
 */
export async function validateRun(configPath: string): Promise<ValidatedRun> {
  const loaded = await loadRunConfig(configPath);
  const { config } = loaded;
  const { tickets } = await ingestStageA({ paths: config.stage_a_paths, mission: config.mission, maxTickets: config.runner.max_tickets });
  const initialGuidance = await loadInitialGuidance(config.guidance.path, config.mission, {
    countTokens: utf8TokenUpperBound,
    maxTokens: Number.MAX_SAFE_INTEGER,
  });
  await checkExperiencesBudget(config, initialGuidance);
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

/**
 * The experiences budget, enforced before the model loads: a UTF-8 byte count is
 * an upper bound on tokens, so a block within budget by bytes passes at once;
 * otherwise the model's own tokenizer decides, loaded vocabulary-only. (A remote
 * backend is counted after connecting, before anything is written.)
 */
async function checkExperiencesBudget(config: RunConfig, guidance: GuidanceState): Promise<void> {
  const block = renderExperiences(guidance.experiences);
  if (utf8TokenUpperBound(block) <= config.guidance.max_tokens) return;
  if (config.model.backend !== 'llama-cpp' || !(await stat(config.model.path).then(() => true, () => false))) return;
  const { countTokensWithVocab } = await import('./llm/countTokensWithVocab');
  const [tokens] = await countTokensWithVocab(config.model, [block]);
  if (tokens > config.guidance.max_tokens) {
    throw new StageBError('GUIDANCE_OVER_BUDGET', `the experiences block has ${tokens} tokens, over guidance.max_tokens = ${config.guidance.max_tokens}`, { file: config.guidance.path, field: `${config.mission}.experiences` });
  }
}

async function modelFingerprint(path: string): Promise<string> {
  const info = await stat(path);
  const handle = await open(path, 'r');
  try {
    const chunk = Math.min(1 << 20, info.size);
    const head = Buffer.alloc(chunk);
    const tail = Buffer.alloc(chunk);
    await handle.read(head, 0, chunk, 0);
    await handle.read(tail, 0, chunk, Math.max(0, info.size - chunk));
    return createHash('sha256').update(String(info.size)).update(head).update(tail).digest('hex');
  } finally {
    await handle.close();
  }
}

async function inputFingerprint(path: string): Promise<{ path: string; sha256: string; lines: number }> {
  const data = await readFile(path);
  let lines = 0;
  for (const byte of data) if (byte === 10) lines++;
  if (data.length > 0 && data[data.length - 1] !== 10) lines++;
  return { path, sha256: createHash('sha256').update(data).digest('hex'), lines };
}

function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const read = (name: string) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  return { node: process.version, 'node-llama-cpp': read('node-llama-cpp'), zod: read('zod'), app: read('../../package.json') };
}

/**
 * The one programmatic entry (the spec's StageBPipeline.run_all): validate →
 * load the model → ingest → rollout/signals/select → reflect/apply → export →
 * distill. The CLI and the workbench both call this. It raises on bad input
 * before touching the run directory, and leaves partial outputs for inspection
 * when a later phase fails.
 */
export async function runStageB(options: RunStageBOptions): Promise<RunStageBResult> {
  const now = options.now ?? (() => new Date().toISOString());
  const onEvent = options.onEvent ?? (() => undefined);
  const startedAt = now();
  const t0 = Date.now();
  onEvent({ type: 'phase', ts: now(), phase: 'validate', message: `validating ${options.configPath}` });
  const validated = await validateRun(options.configPath);
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
  const backend: LlmBackend = await createBackend(config.model, { signal: options.signal });
  const modelLoadMs = Date.now() - loadStarted;
  try {
    const experiencesTokens = await backend.countTextTokens(renderExperiences(validated.initialGuidance.experiences));
    if (experiencesTokens > config.guidance.max_tokens) {
      throw new StageBError('GUIDANCE_OVER_BUDGET', `the experiences block has ${experiencesTokens} tokens, over guidance.max_tokens = ${config.guidance.max_tokens}`, { file: config.guidance.path, field: `${config.mission}.experiences` });
    }
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
        model: {
          backend: config.model.backend,
          path: config.model.backend === 'llama-cpp' ? config.model.path : null,
          fingerprint: config.model.backend === 'llama-cpp' ? await modelFingerprint(config.model.path) : null,
          name: backend.info.modelName,
        },
        versions: versions(),
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
      guidance: repository,
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

/**
 * `stageb export`: rewrites export/verdicts.{jsonl,parquet} from a run directory's
 * selections (last epoch), without a model. Works for inference-only runs.
 */
export async function exportRun(configPath: string): Promise<{ jsonl: string; parquet: string | null; rows: number }> {
  const loaded = await loadRunConfig(configPath);
  const { config } = loaded;
  const store = new FsArtifactStore(runDirectoryOf(config), { exportDir: config.output.export_dir });
  const selections = await store.readSelections();
  if (selections.length === 0) {
    throw new StageBError('EXPORT_MISSING_METADATA', `no selections in ${store.path(RUN_FILES.selections)}; run the pipeline first`, { file: store.path(RUN_FILES.selections) });
  }
  const lastEpoch = Math.max(...selections.map((row) => row.epoch));
  const rows = buildExportRows(selections.filter((row) => row.epoch === lastEpoch), await store.readReflections());
  const paths = await store.writeExport(rows, { parquet: config.output.parquet });
  return { ...paths, rows: rows.length };
}

export { toStageBError };
