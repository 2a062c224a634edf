import type { GuidanceHistoryEntry } from '../../../shared/schemas/guidance';
import type { GuidancePort } from './GuidancePort';
import type {
  NeedReviewRecord,
  ReflectionLogRecord,
  SelectionRecord,
  TrajectoryRecord,
  ExportRow,
  DistillRecord,
} from '../../../shared/schemas/records';
import type { RunEvent, RunManifest, Telemetry } from '../../../shared/schemas/telemetry';
import type { ReviewQueueEntry } from '../../../shared/schemas/reviewQueue';

/**
 * The engine's only way to touch a run directory. The engine stays free of IO;
 * src/main/io/FsArtifactStore.ts implements this on the filesystem with atomic
 * writes and schema-validated JSONL.
 */
export interface ArtifactStore {
  readonly runDir: string;
  readManifest(): Promise<RunManifest | null>;
  writeManifest(manifest: RunManifest): Promise<void>;
  readTrajectories(): Promise<TrajectoryRecord[]>;
  appendTrajectories(rows: TrajectoryRecord[]): Promise<void>;
  readSelections(): Promise<SelectionRecord[]>;
  appendSelections(rows: SelectionRecord[]): Promise<void>;
  /** Atomically replaces both logs; used on resume to drop rows of a batch that never completed. */
  replaceRollouts(trajectories: TrajectoryRecord[], selections: SelectionRecord[]): Promise<void>;
  /** Experiences the engine actually used, one entry per distinct step (guidance_history.jsonl). */
  readGuidanceHistory(): Promise<GuidanceHistoryEntry[]>;
  appendGuidanceHistory(entry: GuidanceHistoryEntry): Promise<void>;
  /** review_queue.jsonl: reflection's operations on protected rules, and people's decisions on them. */
  readReviewQueue(): Promise<ReviewQueueEntry[]>;
  appendReviewQueue(entries: ReviewQueueEntry[]): Promise<void>;
  readReflections(): Promise<ReflectionLogRecord[]>;
  appendReflection(row: ReflectionLogRecord): Promise<void>;
  writeNeedReview(rows: NeedReviewRecord[]): Promise<void>;
  appendEvent(event: RunEvent): Promise<void>;
  writeTelemetry(telemetry: Telemetry): Promise<void>;
  writeExport(rows: ExportRow[], options: { parquet: boolean }): Promise<{ jsonl: string; parquet: string | null }>;
  /** Writes the distill corpus unless the file already holds exactly these rows; says whether it wrote. */
  writeDistill(rows: DistillRecord[], path: string | null): Promise<{ path: string; written: boolean }>;
  /** Reflection stage artifacts, by deterministic name (see reflectionCacheName). */
  readCacheArtifact(name: string): Promise<unknown | null>;
  writeCacheArtifact(name: string, value: unknown): Promise<string>;
}
