import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { StageBError } from '../../shared/errors';
import { DistillRecordSchema } from '../../shared/schemas/records';
import { splitCorpus, type SplitCounts } from '../../shared/distill/splitCorpus';
import { markHighValue } from '../../shared/distill/markHighValue';
import { SPLIT_FILE_NAMES } from '../../shared/distill/splitPaths';
import { readJsonl, serializeJsonlRows, writeFileAtomic } from '../io/jsonl';

type SplitFiles = { train: string; val: string; highValue: string };
/** replaced: the files whose earlier, different content --force replaced; unchanged: files already holding this split. */
export type DistillSplitSummary = { counts: SplitCounts; highValue: number; files: SplitFiles; replaced: string[]; unchanged: string[] };

/**
 * The train/val split behind `stageb distill split` and `distill run` (src/main/cli/commands/distill.ts).
 * A split file that exists with other content is never overwritten silently: FILE_EXISTS names it,
 * before anything is written, unless `force`. Rewriting the same split (same corpus, same seed) is a no-op.
 */
export async function distillSplit(args: {
  inputs: readonly string[];
  outDir: string;
  valFraction: number;
  seed: number;
  dropConflicts: boolean;
  force?: boolean;
}): Promise<DistillSplitSummary> {
  const records = [];
  for (const input of args.inputs) records.push(...(await readJsonl(input, DistillRecordSchema, { tolerateTornTail: false })).rows);
  const { train, val, counts } = splitCorpus(records, { valFraction: args.valFraction, seed: args.seed, dropLabelConflicts: args.dropConflicts });
  const files: SplitFiles = {
    train: path.join(args.outDir, SPLIT_FILE_NAMES.train),
    val: path.join(args.outDir, SPLIT_FILE_NAMES.val),
    highValue: path.join(args.outDir, SPLIT_FILE_NAMES.highValue),
  };
  const highValue = [...markHighValue(train, 'train'), ...markHighValue(val, 'val')];
  const writes: [string, string][] = [
    [files.train, serializeJsonlRows(train)],
    [files.val, serializeJsonlRows(val)],
    [files.highValue, serializeJsonlRows(highValue)],
  ];
  const replaced: string[] = [];
  const unchanged: string[] = [];
  for (const [file, content] of writes) {
    const existing = await readFile(file, 'utf8').catch(() => null);
    if (existing === null) continue;
    if (existing === content) unchanged.push(file);
    else if (args.force) replaced.push(file);
    else {
      throw new StageBError(
        'FILE_EXISTS',
        `${file} holds a different split (another corpus, seed or val fraction); nothing was written. Pass --force to replace it, or --out-dir for another folder`,
        { file },
      );
    }
  }
  for (const [file, content] of writes) if (!unchanged.includes(file)) await writeFileAtomic(file, content);
  return { counts, highValue: highValue.length, files, replaced, unchanged };
}

export function formatSplitSummary({ counts, highValue, files, replaced, unchanged }: DistillSplitSummary): string {
  const row = (name: string, c: SplitCounts['train']) =>
    `${name.padEnd(6)} ${String(c.total).padStart(7)} ${String(c.pass).padStart(7)} ${String(c.fail).padStart(7)} ${String(c.unlabeled).padStart(10)}`;
  const verb = (file: string) => (unchanged.includes(file) ? 'unchanged' : replaced.includes(file) ? 'replaced (--force)' : 'wrote');
  return [
    `read ${counts.input} records; dropped ${counts.dropped.total} (label conflicts ${counts.dropped.label_conflict}, malformed ${counts.dropped.malformed})`,
    `split    total    pass    fail  unlabeled`,
    row('train', counts.train),
    row('val', counts.val),
    `high-value (label=fail & verdict=fail): ${highValue}`,
    ...[files.train, files.val, files.highValue].map((file) => `${verb(file)} ${file}`),
  ].join('\n');
}
