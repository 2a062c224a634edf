import { resolve } from 'node:path';
import { StageBError } from '../../../shared/errors';
import { DEFAULT_SPLIT_OUT_DIR, DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, SPLIT_FILE_NAMES } from '../../../shared/distill/splitPaths';
import type { CliIo } from '../CliIo';
import { defineCommand } from '../Command';
import { RUN_OPTIONS, runWithProgress } from '../runWithProgress';
import { numberOption } from '../UsageError';
import { RUN_FILES } from '../../../shared/runFiles';

const SPLIT_OPTIONS = {
  'out-dir': { type: 'string', value: 'dir', default: DEFAULT_SPLIT_OUT_DIR, description: 'where the split files go (relative to the current folder)' },
  'val-fraction': { type: 'string', value: 'x', default: String(DEFAULT_VAL_FRACTION), description: 'share of each label that goes to val' },
  seed: { type: 'string', value: 'n', default: String(DEFAULT_SPLIT_SEED), description: 'split seed' },
  'drop-conflicts': { type: 'boolean', description: 'drop rows whose verdict disagrees with the label' },
  json: { type: 'boolean', description: 'print the split summary as JSON on stdout' },
} as const;

type SplitValues = { 'out-dir': string; 'val-fraction': string; seed: string; 'drop-conflicts': boolean; json: boolean };

async function split(inputs: string[], values: SplitValues, out: CliIo['stdout']): Promise<number> {
  const valFraction = numberOption('val-fraction', values['val-fraction'])!;
  const seed = numberOption('seed', values.seed)!;
  const { distillSplit, formatSplitSummary } = await import('../../distill/runDistillSplit');
  const summary = await distillSplit({ inputs, outDir: values['out-dir'], valFraction, seed, dropConflicts: values['drop-conflicts'] });
  out.write(`${values.json ? JSON.stringify(summary, null, 2) : formatSplitSummary(summary)}\n`);
  return 0;
}

const SPLIT_DESCRIPTION = `Splits a Stage-B distill corpus into train/val (stratified by label, seeded) and
writes ${SPLIT_FILE_NAMES.train}, ${SPLIT_FILE_NAMES.val} and ${SPLIT_FILE_NAMES.highValue}
(label=fail & verdict=fail rows) into --out-dir.`;

const distillSplitCommand = defineCommand({
  name: 'split',
  summary: 'train/val split of a distill corpus',
  usage: `--input <${RUN_FILES.distill}> [--out-dir ${DEFAULT_SPLIT_OUT_DIR}] [--val-fraction ${DEFAULT_VAL_FRACTION}] [--seed ${DEFAULT_SPLIT_SEED}] [--drop-conflicts] [--json]`,
  options: {
    input: { type: 'string', value: 'file', multiple: true, required: true, description: `a ${RUN_FILES.distill} corpus` },
    ...SPLIT_OPTIONS,
  },
  description: SPLIT_DESCRIPTION,
  run: ({ values, io }) => split(values.input, values, io.stdout),
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
    const { FsArtifactStore } = await import('../../io/FsArtifactStore');
    const { runDirectoryOf } = await import('../../composeStageBRun');
    const telemetry = await new FsArtifactStore(runDirectoryOf(config)).readTelemetry();
    if (!telemetry?.distill.path) {
      throw new StageBError('DISTILL_NOT_CONVERGED', telemetry?.distill.message ?? 'the run wrote no distill corpus', { file: runDirectoryOf(config), field: 'stage_b_distillation' });
    }
    // With --events-json stdout carries only events (the workbench reads it line by line).
    return await split([telemetry.distill.path], values, values['events-json'] ? io.stderr : io.stdout);
  },
});

export const distillCommand = defineCommand({
  name: 'distill',
  summary: 'distillation corpus: a teacher run and its train/val split',
  subcommands: [distillRunCommand, distillSplitCommand],
});
