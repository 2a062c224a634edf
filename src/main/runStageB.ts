import type { RunConfig } from '../shared/schemas/runConfig';
import type { RunEvent, RunManifest } from '../shared/schemas/telemetry';
import { StageBError } from '../shared/errors';
import { loadRunConfig } from './io/loadRunConfig';
import { FsArtifactStore, RUN_FILES } from './io/FsArtifactStore';
import { createBackend } from './llm/createBackend';
import { countTokensBeforeLoad, describeLoadedModel } from './llm/backends/registry';
import type { LlmBackend } from './llm/LlmBackend';
import { findExportGaps, type ExportGap } from './engine/exportCompleteness';
import { buildExportRows } from './engine/buildExportRows';
import { collectRunVersions } from './runVersions';
import type { RunControl } from './engine/ports/RunControl';
import {
  composeStageBRun,
  runDirectoryOf,
  validateStageBRun,
  type RunStageBResult,
  type StageBModelPort,
  type ValidatedRun,
} from './composeStageBRun';

export type { RunStageBResult, ValidatedRun };

export type RunStageBOptions = {
  configPath: string;
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  /** Pause / resume at batch boundaries (the workbench's engine host). */
  control?: RunControl;
  /** Injected for tests that need a fixed clock; defaults to the wall clock. */
  now?: () => string;
};

/**
 * Over budget by bytes, the backend counts exactly before the model loads where it can
 * (a local model's own tokenizer, loaded vocabulary-only); otherwise (a server, a model
 * file not there yet) the open backend counts before anything is written.
 */
async function countTokensWithModelVocab(config: RunConfig, text: string): Promise<number | null> {
  const counts = await countTokensBeforeLoad(config.model, [text]);
  return counts === null ? null : counts[0];
}

async function describeModel(config: RunConfig, backend: LlmBackend): Promise<Pick<RunManifest, 'model' | 'versions' | 'compute'>> {
  const provenance = await describeLoadedModel(config.model, backend);
  return {
    model: {
      backend: config.model.backend,
      path: provenance.path,
      fingerprint: provenance.fingerprint,
      name: backend.info.modelName,
      decode_batching: backend.info.decodeBatching ?? null,
    },
    versions: collectRunVersions({ backend: provenance.versions }),
    compute: provenance.compute,
  };
}

/** The real models: whichever registered backend the config names (src/main/llm/backends/registry.ts). */
const configuredModel: StageBModelPort = {
  countTokensBeforeLoad: countTokensWithModelVocab,
  open: (config, signal) => createBackend(config.model, { signal }),
  describe: describeModel,
};

/**
 * Everything that can be checked without a model, before anything is written:
 * config, Stage-A inputs, guidance and its token budget, and whether the run
 * directory belongs to this config.
 */
export function validateRun(configPath: string): Promise<ValidatedRun> {
  return validateStageBRun(configPath, countTokensWithModelVocab);
}

/**
 * The one programmatic entry: validate → load the model → ingest →
 * rollout/signals/select → reflect/apply → export → distill (composeStageBRun
 * with the configured model). The CLI and the workbench both call this.
 */
export function runStageB(options: RunStageBOptions): Promise<RunStageBResult> {
  return composeStageBRun({ ...options, model: configuredModel });
}

/**
 * `stageb export`: rewrites export/verdicts.{jsonl,parquet} from a run directory's
 * selections (last epoch), without a model. Works for inference-only runs.
 */
export type ExportRunResult = { jsonl: string; parquet: string | null; rows: number; leftOut: ExportGap[] };

/**
 * Re-exports a run's last epoch. An incomplete run (a torn last row, a short batch, a run
 * that did not finish) is refused with every reason; `allowIncomplete` exports what there
 * is and reports exactly what it left out.
 */
export async function exportRun(configPath: string, options: { allowIncomplete?: boolean } = {}): Promise<ExportRunResult> {
  const loaded = await loadRunConfig(configPath);
  const { config } = loaded;
  const store = new FsArtifactStore(runDirectoryOf(config), { exportDir: config.output.export_dir });
  const selections = await store.readSelections();
  if (selections.length === 0) {
    throw new StageBError('EXPORT_MISSING_METADATA', `no selections in ${store.path(RUN_FILES.selections)}; run the pipeline first`, { file: store.path(RUN_FILES.selections) });
  }
  const reflections = await store.readReflections();
  const telemetry = await store.readTelemetry();
  const lastEpoch = Math.max(...selections.map((row) => row.epoch));
  const gaps = findExportGaps({
    telemetry,
    tornTails: store.tornTails,
    selections,
    epoch: lastEpoch,
    trainTickets: telemetry?.counts.train_tickets ?? null,
    batchSize: config.runner.batch_size,
  });
  if (gaps.length > 0 && !options.allowIncomplete) {
    const first = gaps[0];
    throw new StageBError(
      'EXPORT_INCOMPLETE',
      `the run is incomplete, so nothing was exported (--allow-incomplete exports what there is):\n${gaps.map((gap) => `  - ${gap.message}`).join('\n')}`,
      { file: first.kind === 'torn_tail' ? first.file : store.path(first.kind === 'incomplete_batch' ? RUN_FILES.selections : RUN_FILES.telemetry), ...(first.kind === 'torn_tail' ? { line: first.line } : {}) },
      { gaps },
    );
  }
  const rows = buildExportRows(selections.filter((row) => row.epoch === lastEpoch), reflections);
  const paths = await store.writeExport(rows, { parquet: config.output.parquet });
  return { ...paths, rows: rows.length, leftOut: gaps };
}
