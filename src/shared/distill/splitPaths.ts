/** Where `stageb distill split` writes, relative to the repository root unless --out-dir says otherwise. */
export const DEFAULT_SPLIT_OUT_DIR = 'data/stage_b';
export const DEFAULT_VAL_FRACTION = 0.1;
export const DEFAULT_SPLIT_SEED = 17;

export const SPLIT_FILE_NAMES = {
  train: 'distill_chatml.train.jsonl',
  val: 'distill_chatml.val.jsonl',
  highValue: 'distill_chatml.high_value.jsonl',
} as const;

export type SplitPaths = { train: string; val: string; highValue: string };

/** POSIX-joined output paths (shared code has no node:path; fusion configs use forward slashes). */
export function splitPaths(outDir: string = DEFAULT_SPLIT_OUT_DIR): SplitPaths {
  const dir = outDir.replace(/[\\/]+$/, '');
  const join = (name: string) => (dir === '' ? name : `${dir}/${name}`);
  return { train: join(SPLIT_FILE_NAMES.train), val: join(SPLIT_FILE_NAMES.val), highValue: join(SPLIT_FILE_NAMES.highValue) };
}
