import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { StageBError, toStageBError } from '../../shared/errors';
import { DistillRecordSchema } from '../../shared/schemas/records';
import { splitCorpus, type SplitCounts } from '../../shared/distill/splitCorpus';
import { markHighValue } from '../../shared/distill/markHighValue';
import { DEFAULT_SPLIT_OUT_DIR, DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, SPLIT_FILE_NAMES } from '../../shared/distill/splitPaths';
import { readJsonl, writeJsonlAtomic } from '../io/jsonl';
import { processIo, type CliIo } from '../cli/CliIo';
import { stripCommandWords } from './stripCommandWords';

export const DISTILL_SPLIT_USAGE = `usage: stageb distill split --input <distill_chatml.jsonl> [--out-dir ${DEFAULT_SPLIT_OUT_DIR}] [--val-fraction ${DEFAULT_VAL_FRACTION}] [--seed ${DEFAULT_SPLIT_SEED}] [--drop-conflicts]

Splits a Stage-B distill corpus into train/val (stratified by label, seeded) and
writes ${SPLIT_FILE_NAMES.train}, ${SPLIT_FILE_NAMES.val} and ${SPLIT_FILE_NAMES.highValue}
(label=fail & verdict=fail rows) into --out-dir. --input may be given more than once.`;

export type DistillSplitSummary = { counts: SplitCounts; highValue: number; files: { train: string; val: string; highValue: string } };

function parseNumber(raw: string, field: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new StageBError('CONFIG_INVALID', `--${field} must be a number, got ${JSON.stringify(raw)}`, { field });
  return value;
}

/** `stageb distill split …`; argv is what follows `distill split` (the words themselves are tolerated). Returns the exit code. */
export async function runDistillSplit(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let options;
  try {
    options = parseArgs({
      args: stripCommandWords(argv, ['distill', 'split']),
      options: {
        input: { type: 'string', multiple: true },
        'out-dir': { type: 'string', default: DEFAULT_SPLIT_OUT_DIR },
        'val-fraction': { type: 'string', default: String(DEFAULT_VAL_FRACTION) },
        seed: { type: 'string', default: String(DEFAULT_SPLIT_SEED) },
        'drop-conflicts': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    io.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${DISTILL_SPLIT_USAGE}\n`);
    return 2;
  }
  if (options.help) {
    io.stdout.write(`${DISTILL_SPLIT_USAGE}\n`);
    return 0;
  }
  if (!options.input || options.input.length === 0) {
    io.stderr.write(`--input is required\n${DISTILL_SPLIT_USAGE}\n`);
    return 2;
  }
  try {
    const summary = await distillSplit({
      inputs: options.input,
      outDir: options['out-dir'],
      valFraction: parseNumber(options['val-fraction'], 'val-fraction'),
      seed: parseNumber(options.seed, 'seed'),
      dropConflicts: options['drop-conflicts'],
    });
    io.stdout.write(`${options.json ? JSON.stringify(summary, null, 2) : formatSplitSummary(summary)}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`${toStageBError(error).format()}\n`);
    return 1;
  }
}

export async function distillSplit(args: {
  inputs: readonly string[];
  outDir: string;
  valFraction: number;
  seed: number;
  dropConflicts: boolean;
}): Promise<DistillSplitSummary> {
  const records = [];
  for (const input of args.inputs) records.push(...(await readJsonl(input, DistillRecordSchema, { tolerateTornTail: false })).rows);
  const { train, val, counts } = splitCorpus(records, { valFraction: args.valFraction, seed: args.seed, dropLabelConflicts: args.dropConflicts });
  const files = {
    train: path.join(args.outDir, SPLIT_FILE_NAMES.train),
    val: path.join(args.outDir, SPLIT_FILE_NAMES.val),
    highValue: path.join(args.outDir, SPLIT_FILE_NAMES.highValue),
  };
  const highValue = [...markHighValue(train, 'train'), ...markHighValue(val, 'val')];
  await writeJsonlAtomic(files.train, train);
  await writeJsonlAtomic(files.val, val);
  await writeJsonlAtomic(files.highValue, highValue);
  return { counts, highValue: highValue.length, files };
}

export function formatSplitSummary({ counts, highValue, files }: DistillSplitSummary): string {
  const row = (name: string, c: SplitCounts['train']) =>
    `${name.padEnd(6)} ${String(c.total).padStart(7)} ${String(c.pass).padStart(7)} ${String(c.fail).padStart(7)} ${String(c.unlabeled).padStart(10)}`;
  return [
    `read ${counts.input} records; dropped ${counts.dropped.total} (label conflicts ${counts.dropped.label_conflict}, malformed ${counts.dropped.malformed})`,
    `split    total    pass    fail  unlabeled`,
    row('train', counts.train),
    row('val', counts.val),
    `high-value (label=fail & verdict=fail): ${highValue}`,
    `wrote ${files.train}`,
    `wrote ${files.val}`,
    `wrote ${files.highValue}`,
  ].join('\n');
}
