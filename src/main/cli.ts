import { dirname, resolve } from 'node:path';
import { StageBError, toStageBError } from '../shared/errors';
import type { RunEvent } from '../shared/schemas/telemetry';
import { runStageB, validateRun, exportRun } from './runStageB';
import { ProgressRenderer } from './cli/ProgressRenderer';
import { processIo, type CliIo } from './cli/CliIo';
import { cancelOnSignals } from './cli/cancelOnSignals';

export const USAGE = `stageb — Stage-B training-free verdict loop

Usage:
  stageb run --config <file> [--events-json]   run (or resume) Stage-B end to end
  stageb validate --config <file>              check config, inputs and guidance; writes nothing
  stageb export --config <file>                rewrite export/verdicts.{jsonl,parquet} from a run
  stageb demo [--config configs/demo.yaml]     generate the demo mission and model, then run
  stageb demo-data [--out DIR] [--seed N] [--count N] [--force]
                                               (re)generate only the demo mission files
  stageb model tiny --out <file> [--seed N]    write the tiny random-weight test GGUF
  stageb model random --shape <name> --out <file> [--seed N]
                                               write a random-weight GGUF of a real model's shape
  stageb distill run --config <file> [--events-json] [split options]
                                               Stage-B run (e.g. a teacher config), then split its corpus
  stageb distill split --input <file> [--out-dir data/stage_b] [--val-fraction 0.1] [--seed 17] [--drop-conflicts]
  stageb compare --runs <runDirA> <runDirB> [--json]
  stageb attribute (--config <file> | --run <runDir>) [--force] [--json] [--events-json]
                                               measure each rule of the current guidance on the holdout
  stageb preview (--config <file> | --run <runDir>) --guidance <draft.json> [--id <name>] [--json] [--events-json]
                                               evaluate a draft guidance against the current one on the holdout

Errors print as "CODE file:line field: message" and exit non-zero.
`;

export function readFlag(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  if (index === -1) return undefined;
  const value = argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new StageBError('CONFIG_INVALID', `${name} needs a value`, { field: name });
  return value;
}

function requireFlag(argv: string[], name: string): string {
  const value = readFlag(argv, name);
  if (value === undefined) throw new StageBError('CONFIG_INVALID', `missing ${name}\n\n${USAGE}`, { field: name });
  return value;
}

async function commandRun(argv: string[], io: CliIo, configPathDefault?: string): Promise<number> {
  const configPath = resolve(readFlag(argv, '--config') ?? configPathDefault ?? requireFlag(argv, '--config'));
  const eventsJson = argv.includes('--events-json');
  const progress = new ProgressRenderer(io.stderr);
  const controller = new AbortController();
  const removeSignalHandlers = cancelOnSignals(controller);
  try {
    const result = await runStageB({
      configPath,
      signal: controller.signal,
      onEvent: (event: RunEvent) => {
        if (eventsJson) io.stdout.write(`${JSON.stringify(event)}\n`);
        progress.handle(event);
      },
    });
    progress.finish();
    const t = result.telemetry;
    const lines = [
      result.alreadyComplete ? `Run already complete: ${result.runDir}` : `Run complete: ${result.runDir}`,
      `  groups ${t.counts.groups_processed}, candidates ${t.counts.candidates}, malformed ${t.counts.malformed}, warnings ${t.counts.warnings}`,
      `  label_match ${fmtRate(t.rates.label_match_rate)}, false-release ${fmtRate(t.rates.false_release_rate)}, guidance step ${t.guidance_step}`,
      `  reflections: ${t.counts.reflections.applied} applied, ${t.counts.reflections.rejected} rejected, ${t.counts.reflections.ineligible} ineligible`,
      `  tokens: prompt evaluated ${t.tokens.prompt_evaluated} / total ${t.tokens.prompt_total} (unique ${t.tokens.prompt_unique}), generated ${t.tokens.generated}`,
      `  distill: ${t.distill.status}${t.distill.path ? ` → ${t.distill.path} (${t.distill.rows} rows)` : ''}${t.distill.message ? ` — ${t.distill.message}` : ''}`,
    ];
    (eventsJson ? io.stderr : io.stdout).write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    removeSignalHandlers();
    progress.finish();
  }
}

function fmtRate(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

/**
 * A distill run, as operators launch it: the Stage-B run of a (teacher) config —
 * resumed, or left as it is when complete — then the train/val split of the
 * converged-epoch corpus it wrote. Split flags are passed through.
 */
async function commandDistillRun(argv: string[], io: CliIo): Promise<number> {
  const { loadRunConfig } = await import('./io/loadRunConfig');
  const { runDistillSplit } = await import('./distill/index');
  const { config } = await loadRunConfig(resolve(requireFlag(argv, '--config')));
  if (!config.stage_b_distillation.enabled) {
    throw new StageBError('CONFIG_INVALID', 'stage_b_distillation.enabled is false in this config; a distill run needs it', { field: 'stage_b_distillation.enabled' });
  }
  const code = await commandRun(argv, io);
  if (code !== 0) return code;
  const { FsArtifactStore } = await import('./io/FsArtifactStore');
  const { runDirectoryOf } = await import('./composeStageBRun');
  const telemetry = await new FsArtifactStore(runDirectoryOf(config)).readTelemetry();
  if (!telemetry?.distill.path) {
    throw new StageBError('DISTILL_NOT_CONVERGED', telemetry?.distill.message ?? 'the run wrote no distill corpus', { file: runDirectoryOf(config), field: 'stage_b_distillation' });
  }
  const passThrough: string[] = [];
  for (const name of ['--out-dir', '--val-fraction', '--seed']) {
    const value = readFlag(argv, name);
    if (value !== undefined) passThrough.push(name, value);
  }
  if (argv.includes('--drop-conflicts')) passThrough.push('--drop-conflicts');
  return await runDistillSplit(['--input', telemetry.distill.path, ...passThrough], io);
}

async function commandValidate(argv: string[], io: CliIo): Promise<number> {
  const validated = await validateRun(resolve(requireFlag(argv, '--config')));
  const labels = validated.tickets.reduce((acc, t) => ((acc[t.label ?? 'unlabeled'] = (acc[t.label ?? 'unlabeled'] ?? 0) + 1), acc), {} as Record<string, number>);
  io.stdout.write(
    `OK ${validated.loaded.configPath}\n  mission ${validated.loaded.config.mission}: ${validated.tickets.length} tickets ${JSON.stringify(labels)}\n  guidance step ${validated.initialGuidance.step}, ${Object.keys(validated.initialGuidance.experiences).length} experiences\n  run directory ${validated.runDir} (${validated.existing})\n`,
  );
  return 0;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await commandRun(rest, io);
      case 'validate':
        return await commandValidate(rest, io);
      case 'export': {
        const result = await exportRun(resolve(requireFlag(rest, '--config')));
        io.stdout.write(`exported ${result.rows} rows → ${result.jsonl}${result.parquet ? `, ${result.parquet}` : ''}\n`);
        return 0;
      }
      case 'demo': {
        const { ensureDemoMission } = await import('./demo/generateDemoMission');
        const { loadRunConfig } = await import('./io/loadRunConfig');
        const configPath = resolve(readFlag(rest, '--config') ?? 'configs/demo.yaml');
        // The demo config points at the generator's output folder; fill it before validation.
        const { config } = await loadRunConfig(configPath);
        const demo = await ensureDemoMission(dirname(config.stage_a_paths[0]));
        if (demo.generated) io.stderr.write(`generated the demo mission in ${demo.outDir}\n`);
        const { setAsideStaleDemoRun } = await import('./demo/setAsideStaleDemoRun');
        const setAside = await setAsideStaleDemoRun(config);
        if (setAside) io.stderr.write(`the previous demo run was made with another config (an earlier version?); moved it to ${setAside}\n`);
        return await commandRun(rest, io, configPath);
      }
      case 'demo-data': {
        const { runDemoMissionCommand, parseDemoMissionArgs } = await import('./demo/demoMissionCommand');
        io.stdout.write(`${await runDemoMissionCommand(parseDemoMissionArgs(rest))}\n`);
        return 0;
      }
      case 'model': {
        const { runModelCommand } = await import('./llm/modelCommand');
        return await runModelCommand(rest, io);
      }
      case 'distill': {
        const { runDistillSplit } = await import('./distill/index');
        if (rest[0] === 'split') return await runDistillSplit(rest.slice(1), io);
        if (rest[0] === 'run') return await commandDistillRun(rest.slice(1), io);
        throw new StageBError('CONFIG_INVALID', `unknown distill subcommand ${JSON.stringify(rest[0])}\n\n${USAGE}`, { field: 'distill' });
      }
      case 'attribute':
        return await (await import('./cli/attributeCommand')).runAttributeCommand(rest, io);
      case 'preview':
        return await (await import('./cli/previewCommand')).runPreviewCommand(rest, io);
      case 'compare': {
        const { runCompare } = await import('./distill/index');
        return await runCompare(rest, io);
      }
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new StageBError('CONFIG_INVALID', `unknown command ${JSON.stringify(command)}\n\n${USAGE}`, { field: 'command' });
    }
  } catch (raw) {
    const error = toStageBError(raw);
    io.stderr.write(`${error.format()}\n`);
    return error.code === 'CANCELLED' ? 130 : 1;
  }
}
