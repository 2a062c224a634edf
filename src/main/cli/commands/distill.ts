import { dirname, resolve } from 'node:path';
import { StageBError } from '../../../shared/errors';
import { DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, SPLIT_DIR_NAME, SPLIT_FILE_NAMES, defaultSplitDir } from '../../../shared/distill/splitPaths';
import type { CliIo } from '../CliIo';
import { defineCommand } from '../Command';
import { RUN_OPTIONS, runCancellable, runWithProgress } from '../runWithProgress';
import { numberOption } from '../UsageError';
import { RUN_FILES } from '../../../shared/runFiles';

const SPLIT_OPTIONS = {
  'out-dir': { type: 'string', value: 'dir', description: `where the split files go (relative to the current folder); default ${SPLIT_DIR_NAME}/ in the run's mission folder` },
  'val-fraction': { type: 'string', value: 'x', default: String(DEFAULT_VAL_FRACTION), description: 'share of each label that goes to val' },
  seed: { type: 'string', value: 'n', default: String(DEFAULT_SPLIT_SEED), description: 'split seed' },
  'drop-conflicts': { type: 'boolean', description: 'drop rows whose verdict disagrees with the label' },
  force: { type: 'boolean', description: 'replace split files that hold a different split (refused otherwise)' },
  json: { type: 'boolean', description: 'print the split summary as JSON on stdout' },
} as const;

type SplitValues = { 'out-dir'?: string; 'val-fraction': string; seed: string; 'drop-conflicts': boolean; force: boolean; json: boolean };

/** outDir: --out-dir, else the default folder beside the run (see splitPaths.ts). */
async function split(inputs: string[], outDir: string, values: SplitValues, out: CliIo['stdout']): Promise<number> {
  const valFraction = numberOption('val-fraction', values['val-fraction'])!;
  const seed = numberOption('seed', values.seed)!;
  const { distillSplit, formatSplitSummary } = await import('../../distill/runDistillSplit');
  const summary = await distillSplit({ inputs, outDir, valFraction, seed, dropConflicts: values['drop-conflicts'], force: values.force });
  out.write(`${values.json ? JSON.stringify(summary, null, 2) : formatSplitSummary(summary)}\n`);
  return 0;
}

const SPLIT_DESCRIPTION = `Splits a Stage-B distill corpus into train/val (stratified by label, seeded) and
writes ${SPLIT_FILE_NAMES.train}, ${SPLIT_FILE_NAMES.val} and ${SPLIT_FILE_NAMES.highValue}
(label=fail & verdict=fail rows) into --out-dir, by default ${SPLIT_DIR_NAME}/ beside the run's
corpus ({output.root}/{run_name}/{mission}/${SPLIT_DIR_NAME}/). A split file holding a different
split is never overwritten silently: the command fails (FILE_EXISTS, naming the file) before
writing anything, unless --force. The same split again (same corpus and seed) leaves them as they are.`;

const distillSplitCommand = defineCommand({
  name: 'split',
  summary: 'train/val split of a distill corpus',
  usage: `--input <${RUN_FILES.distill}> [--out-dir <dir>] [--val-fraction ${DEFAULT_VAL_FRACTION}] [--seed ${DEFAULT_SPLIT_SEED}] [--drop-conflicts] [--force] [--json]`,
  options: {
    input: { type: 'string', value: 'file', multiple: true, required: true, description: `a ${RUN_FILES.distill} corpus` },
    ...SPLIT_OPTIONS,
  },
  description: SPLIT_DESCRIPTION,
  run: ({ values, io }) => split(values.input, values['out-dir'] ?? defaultSplitDir(dirname(resolve(values.input[0]))), values, io.stdout),
});

const distillRunCommand = defineCommand({
  name: 'run',
  summary: "Stage-B run of a (teacher) config, then the split of its corpus",
  usage: '--config <file> [--events-json] [split options]',
  options: { ...RUN_OPTIONS, ...SPLIT_OPTIONS },
  description: `A distill run, as operators launch it: the Stage-B run of a config with
stage_b_distillation.enabled (resumed, or left as it is when complete), then the
train/val split of the converged-epoch corpus it wrote. ${SPLIT_DESCRIPTION}`,
  run: async ({ values, io, verbosity }) => {
    // Split flags are checked before a run that may take hours.
    numberOption('val-fraction', values['val-fraction']);
    numberOption('seed', values.seed);
    const { loadRunConfig } = await import('../../io/loadRunConfig');
    const configPath = resolve(values.config);
    const { config } = await loadRunConfig(configPath);
    if (!config.stage_b_distillation.enabled) {
      throw new StageBError('CONFIG_INVALID', 'stage_b_distillation.enabled is false in this config; a distill run needs it', { file: configPath, field: 'stage_b_distillation.enabled' });
    }
    const code = await runWithProgress({ configPath, eventsJson: values['events-json'], io, verbosity });
    if (code !== 0) return code;
    // The split after the run reports a failure (DISTILL_NOT_CONVERGED, FILE_EXISTS) as a typed error event too, for the launcher.
    return await runCancellable({ eventsJson: values['events-json'], verbosity, io }, async () => {
      const { FsArtifactStore } = await import('../../io/FsArtifactStore');
      const { runDirectoryOf } = await import('../../composeStageBRun');
      const telemetry = await new FsArtifactStore(runDirectoryOf(config)).readTelemetry();
      if (!telemetry?.distill.path) {
        throw new StageBError('DISTILL_NOT_CONVERGED', telemetry?.distill.message ?? 'the run wrote no distill corpus', { file: runDirectoryOf(config), field: 'stage_b_distillation' });
      }
      // With --events-json stdout carries only events (the workbench reads it line by line).
      const outDir = values['out-dir'] ?? defaultSplitDir(runDirectoryOf(config));
      return await split([telemetry.distill.path], outDir, values, values['events-json'] ? io.stderr : io.stdout);
    });
  },
});

export const distillCommand = defineCommand({
  name: 'distill',
  summary: 'distillation corpus: a teacher run and its train/val split',
  subcommands: [distillRunCommand, distillSplitCommand],
});
