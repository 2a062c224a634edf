import { basename, isAbsolute, join, resolve, dirname } from 'node:path';
import type { z } from 'zod';
import type { ArtifactStore } from '../engine/ports/ArtifactStore';
import { GuidanceHistoryEntrySchema, type GuidanceHistoryEntry } from '../../shared/schemas/guidance';
import {
  DistillRecordSchema,
  ExportRowSchema,
  NeedReviewRecordSchema,
  ReflectionLogRecordSchema,
  SelectionRecordSchema,
  TrajectoryRecordSchema,
  type DistillRecord,
  type ExportRow,
  type NeedReviewRecord,
  type ReflectionLogRecord,
  type SelectionRecord,
  type TrajectoryRecord,
} from '../../shared/schemas/records';
import { RunEventSchema, RunManifestSchema, TelemetrySchema, type RunEvent, type RunManifest, type Telemetry } from '../../shared/schemas/telemetry';
import { StageBError } from '../../shared/errors';
import { appendJsonl, mkdirForWrite, readJsonl, serializeJsonlRows, writeJsonAtomic, writeJsonlAtomic } from './jsonl';
import { writeVerdictsParquet } from './writeVerdictsParquet';
import { readJsonFile, readTextIfPresent } from './readJsonFile';
import { removeLeftoverTempFiles } from './tempFiles';
import { appendReviewQueue, readReviewQueue } from './reviewQueueFile';
import { RUN_FILES } from '../../shared/runFiles';
import type { ReviewQueueEntry } from '../../shared/schemas/reviewQueue';

/** The names of the run directory's files: src/shared/runFiles.ts (re-exported for the io and API modules). */
export { RUN_FILES };

const CACHE_NAME = /^[A-Za-z0-9_.-]+\.json$/;
const EXPORT_FILES = new Set(['verdicts.jsonl', 'verdicts.parquet']);

/**
 * The run directory `{output.root}/{run_name}/{mission}/` on disk. Every record is
 * validated against its schema on the way in and out; logs are append-only JSONL
 * that tolerate a torn last line; whole files are replaced atomically.
 */
export class FsArtifactStore implements ArtifactStore {
  readonly runDir: string;
  private readonly exportDir: string;
  /** Torn last lines found while reading, reported by the caller. */
  readonly tornTails: { file: string; line: number; bytes: number }[] = [];

  constructor(runDir: string, options: { exportDir?: string } = {}) {
    this.runDir = runDir;
    const exportDir = options.exportDir ?? RUN_FILES.export;
    this.exportDir = isAbsolute(exportDir) ? exportDir : join(runDir, exportDir);
  }

  path(name: string): string {
    return join(this.runDir, name);
  }

  /**
   * Creates the run directory, and removes the temp files that writes interrupted by a
   * crash left in it (a run starts or resumes here), so a resumed run holds exactly the
   * files of an uninterrupted one.
   */
  async ensureDir(): Promise<void> {
    await mkdirForWrite(this.runDir);
    await this.removeInterruptedWrites();
  }

  /**
   * Temp files of atomic writes whose writer died: in the run directory (only those meant to
   * replace one of the run files), the reflection cache and the export folder. Temp files of
   * live processes (a workbench writing meanwhile) and any other file are left alone.
   */
  async removeInterruptedWrites(): Promise<string[]> {
    const runFiles = new Set<string>(Object.values(RUN_FILES));
    return [
      ...(await removeLeftoverTempFiles(this.runDir, { targets: (target) => runFiles.has(target) })),
      ...(await removeLeftoverTempFiles(join(this.runDir, RUN_FILES.reflectionCache), { targets: (target) => CACHE_NAME.test(target) })),
      ...(await removeLeftoverTempFiles(this.exportDir, { targets: (target) => EXPORT_FILES.has(target) })),
    ];
  }

  private async readLog<T>(name: string, schema: z.ZodType<T>): Promise<T[]> {
    try {
      const { rows, tornTail } = await readJsonl(this.path(name), schema, { tolerateTornTail: true, missingCode: 'INPUT_NOT_FOUND' });
      if (tornTail) this.tornTails.push({ file: this.path(name), ...tornTail });
      return rows;
    } catch (error) {
      // A log that does not exist yet is an empty log.
      if (error instanceof StageBError && error.code === 'INPUT_NOT_FOUND') return [];
      throw error;
    }
  }

  private readJson<T>(name: string, schema: z.ZodType<T>): Promise<T | null> {
    return readJsonFile(this.path(name), schema);
  }

  readManifest(): Promise<RunManifest | null> {
    return this.readJson(RUN_FILES.manifest, RunManifestSchema);
  }
  async writeManifest(manifest: RunManifest): Promise<void> {
    await writeJsonAtomic(this.path(RUN_FILES.manifest), RunManifestSchema.parse(manifest));
  }
  readTelemetry(): Promise<Telemetry | null> {
    return this.readJson(RUN_FILES.telemetry, TelemetrySchema);
  }
  readTrajectories(): Promise<TrajectoryRecord[]> {
    return this.readLog(RUN_FILES.trajectories, TrajectoryRecordSchema);
  }
  async appendTrajectories(rows: TrajectoryRecord[]): Promise<void> {
    await appendJsonl(this.path(RUN_FILES.trajectories), rows.map((row) => TrajectoryRecordSchema.parse(row)));
  }
  readSelections(): Promise<SelectionRecord[]> {
    return this.readLog(RUN_FILES.selections, SelectionRecordSchema);
  }
  async appendSelections(rows: SelectionRecord[]): Promise<void> {
    await appendJsonl(this.path(RUN_FILES.selections), rows.map((row) => SelectionRecordSchema.parse(row)));
  }
  async replaceRollouts(trajectories: TrajectoryRecord[], selections: SelectionRecord[]): Promise<void> {
    // Selections first: a batch counts as complete only through its selections,
    // so a crash between the two writes leaves at worst extra trajectories that
    // the next resume drops again.
    await writeJsonlAtomic(this.path(RUN_FILES.selections), selections);
    await writeJsonlAtomic(this.path(RUN_FILES.trajectories), trajectories);
  }
  readReflections(): Promise<ReflectionLogRecord[]> {
    return this.readLog(RUN_FILES.reflections, ReflectionLogRecordSchema);
  }
  async appendReflection(row: ReflectionLogRecord): Promise<void> {
    await appendJsonl(this.path(RUN_FILES.reflections), [ReflectionLogRecordSchema.parse(row)]);
  }
  readReviewQueue(): Promise<ReviewQueueEntry[]> {
    return readReviewQueue(this.runDir);
  }
  async appendReviewQueue(entries: ReviewQueueEntry[]): Promise<void> {
    await appendReviewQueue(this.runDir, entries);
  }
  readGuidanceHistory(): Promise<GuidanceHistoryEntry[]> {
    return this.readLog(RUN_FILES.guidanceHistory, GuidanceHistoryEntrySchema);
  }
  async appendGuidanceHistory(entry: GuidanceHistoryEntry): Promise<void> {
    await appendJsonl(this.path(RUN_FILES.guidanceHistory), [GuidanceHistoryEntrySchema.parse(entry)]);
  }
  readNeedReview(): Promise<NeedReviewRecord[]> {
    return this.readLog(RUN_FILES.needReview, NeedReviewRecordSchema);
  }
  async writeNeedReview(rows: NeedReviewRecord[]): Promise<void> {
    await writeJsonlAtomic(this.path(RUN_FILES.needReview), rows.map((row) => NeedReviewRecordSchema.parse(row)));
  }
  async appendEvent(event: RunEvent): Promise<void> {
    await appendJsonl(this.path(RUN_FILES.events), [RunEventSchema.parse(event)]);
  }
  async writeTelemetry(telemetry: Telemetry): Promise<void> {
    await writeJsonAtomic(this.path(RUN_FILES.telemetry), TelemetrySchema.parse(telemetry));
  }
  async writeExport(rows: ExportRow[], options: { parquet: boolean }): Promise<{ jsonl: string; parquet: string | null }> {
    const validated = rows.map((row) => ExportRowSchema.parse(row));
    await mkdirForWrite(this.exportDir);
    // `stageb export` writes here without starting a run: leftovers of an interrupted export go first.
    await removeLeftoverTempFiles(this.exportDir, { targets: (target) => EXPORT_FILES.has(target) });
    const jsonl = join(this.exportDir, 'verdicts.jsonl');
    await writeJsonlAtomic(jsonl, validated);
    let parquet: string | null = null;
    if (options.parquet) {
      parquet = join(this.exportDir, 'verdicts.parquet');
      await writeVerdictsParquet(parquet, validated);
    }
    return { jsonl, parquet };
  }
  async writeDistill(rows: DistillRecord[], path: string | null): Promise<{ path: string; written: boolean }> {
    const target = path ? resolve(this.runDir, path) : this.path(RUN_FILES.distill);
    const validated = rows.map((row) => DistillRecordSchema.parse(row));
    // A rerun of a finished run leaves an identical corpus untouched and rewrites a missing or different one.
    const existing = await readTextIfPresent(target).catch(() => null);
    if (existing === serializeJsonlRows(validated)) return { path: target, written: false };
    await mkdirForWrite(dirname(target)).catch((error: StageBError) => {
      throw new StageBError('IO_WRITE_FAILED', `cannot write the distill corpus ${target}: ${error.message}`, { file: target, field: 'stage_b_distillation.output_path' });
    });
    // The corpus may live outside the run directory: its own folder is swept of this file's leftovers only.
    await removeLeftoverTempFiles(dirname(target), { targets: (name) => name === basename(target) });
    await writeJsonlAtomic(target, validated);
    return { path: target, written: true };
  }
  async readCacheArtifact(name: string): Promise<unknown | null> {
    let text: string | null;
    try {
      text = await readTextIfPresent(this.cachePath(name));
    } catch (error) {
      // Bytes that are not UTF-8 make an invalid artifact too.
      if (error instanceof StageBError && error.code === 'INPUT_INVALID_UTF8') return null;
      throw error;
    }
    if (text === null) return null;
    try {
      return JSON.parse(text);
    } catch {
      // An invalid artifact is treated as missing: only that stage regenerates.
      return null;
    }
  }
  async writeCacheArtifact(name: string, value: unknown): Promise<string> {
    const file = this.cachePath(name);
    await mkdirForWrite(dirname(file));
    await writeJsonAtomic(file, value);
    return join(RUN_FILES.reflectionCache, name);
  }
  private cachePath(name: string): string {
    if (!CACHE_NAME.test(name)) throw new StageBError('INTERNAL', `invalid cache artifact name ${JSON.stringify(name)}`, { field: 'name' });
    return join(this.runDir, RUN_FILES.reflectionCache, name);
  }
}
