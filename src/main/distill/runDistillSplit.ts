import * as path from 'node:path';
import { DistillRecordSchema } from '../../shared/schemas/records';
import { splitCorpus, type SplitCounts } from '../../shared/distill/splitCorpus';
import { markHighValue } from '../../shared/distill/markHighValue';
import { SPLIT_FILE_NAMES } from '../../shared/distill/splitPaths';
import { readJsonl, writeJsonlAtomic } from '../io/jsonl';

export type DistillSplitSummary = { counts: SplitCounts; highValue: number; files: { train: string; val: string; highValue: string } };

/** The train/val split behind `stageb distill split` (src/main/cli/commands/distill.ts). */
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
