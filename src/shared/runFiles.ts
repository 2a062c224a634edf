/**
 * The names of the files and folders of a mission run directory `{output.root}/{run_name}/{mission}/`
 * (ARCHITECTURE.md §4, the README's run-directory table). This is the only place that spells
 * them: the writers and readers of src/main/io, the engine's cache references and error
 * locations, the API, the CLI and the bench all name a run file through RUN_FILES
 * (test/architecture/runFileNames.test.ts fails on a literal elsewhere). It lives in src/shared,
 * pure data, so that the engine and the config schema's defaults can use it too.
 */
export const RUN_FILES = {
  manifest: 'run.json',
  guidance: 'guidance.json',
  /** Folder: `guidance-YYYYMMDD-HHMMSS-ffffff.json`, a copy of the guidance before every change. */
  snapshots: 'snapshots',
  trajectories: 'trajectories.jsonl',
  selections: 'selections.jsonl',
  reflections: 'reflection.jsonl',
  needReview: 'need_review.jsonl',
  guidanceHistory: 'guidance_history.jsonl',
  telemetry: 'telemetry.json',
  events: 'events.jsonl',
  /** Folder: reflection stage artifacts, listed in each reflection record's cache_artifacts. */
  reflectionCache: 'reflection_cache',
  distill: 'distill_chatml.jsonl',
  /** Folder (output.export_dir's default): verdicts.jsonl and verdicts.parquet. */
  export: 'export',
  /** The workbench's QA review log. */
  qaReviews: 'qa_reviews.jsonl',
  /** Reflection's operations on protected rules, and people's decisions on them. */
  reviewQueue: 'review_queue.jsonl',
  /** Folder: `step-<N>.json`, the rule attribution of guidance step N (`stageb attribute`). */
  attribution: 'attribution',
  /** Folder: `<id>.draft.json` and `<id>.json`, a draft guidance and its holdout preview (`stageb preview`). */
  preview: 'preview',
} as const;

export type RunFileKey = keyof typeof RUN_FILES;
