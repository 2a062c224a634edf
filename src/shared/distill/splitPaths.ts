/**
 * `stageb distill split` / `distill run` write the split beside the run it came from:
 * {output.root}/{run_name}/{mission}/distill/ unless --out-dir says otherwise, so two
 * runs never share (and overwrite) one split folder.
 */
export const SPLIT_DIR_NAME = 'distill';
export const DEFAULT_VAL_FRACTION = 0.1;
export const DEFAULT_SPLIT_SEED = 17;

export const SPLIT_FILE_NAMES = {
  train: 'distill_chatml.train.jsonl',
  val: 'distill_chatml.val.jsonl',
  highValue: 'distill_chatml.high_value.jsonl',
} as const;

export type SplitPaths = { train: string; val: string; highValue: string };

const joinPosix = (dir: string, name: string) => {
  const trimmed = dir.replace(/[\\/]+$/, '');
  return trimmed === '' ? name : `${trimmed}/${name}`;
};

/** The default split folder of a run's mission directory ({output.root}/{run_name}/{mission}). */
export function defaultSplitDir(runDirectory: string): string {
  return joinPosix(runDirectory, SPLIT_DIR_NAME);
}

/** POSIX-joined output paths (shared code has no node:path; fusion configs use forward slashes). */
export function splitPaths(outDir: string): SplitPaths {
  return { train: joinPosix(outDir, SPLIT_FILE_NAMES.train), val: joinPosix(outDir, SPLIT_FILE_NAMES.val), highValue: joinPosix(outDir, SPLIT_FILE_NAMES.highValue) };
}
