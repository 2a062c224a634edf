import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { StageBError } from '../../shared/errors';
import {
  GuidanceFileSchema,
  GuidanceStateSchema,
  GuidanceWriteBySchema,
  type ExperienceMeta,
  type GuidanceFile,
  type GuidanceState,
  type GuidanceWriteBy,
  type StoredExperienceMeta,
  type StoredGuidanceState,
} from '../../shared/schemas/guidance';
import { carryRuleMetadata, type RuleStamp } from '../../shared/guidance/carryRuleMetadata';
import type { GuidanceEdit, GuidancePort, GuidanceRollbackOptions, GuidanceWithHash, GuidanceWriteOptions } from '../engine/ports/GuidancePort';
import type { SnapshotInfo } from '../../shared/api/contract';
import { RUN_FILES } from '../../shared/runFiles';
import { guidanceContentHash } from '../../shared/guidance/guidanceContentHash';
import { sortExperienceKeys } from '../../shared/guidance/sortExperienceKeys';
import { guidanceEditIssues } from '../../shared/guidance/guidanceEditRules';
import { acquireFileLock, type FileLockOptions } from './fileLock';
import { holdTempPath, removeLeftoverTempFiles, tempPathFor } from './tempFiles';
import { describeZodIssue } from './zodIssuePath';
import { decodeUtf8Strict } from './utf8';
import { isSnapshotName, microsFromSnapshotName, nowMicros, snapshotNameFromMicros } from './snapshotName';

/**
 * The guidance file of one mission, written by the one rule of ARCHITECTURE.md §5:
 * every write names the step it was based on and succeeds only if the file is still
 * at that step with the content the writer saw (compare-and-swap under `<path>.lock`);
 * it then snapshots the current file and writes step + 1 atomically. The engine's
 * reflection apply, an annotator's save, a rollback and a hand edit in a text editor
 * all meet this rule, so nothing is ever overwritten silently.
 *
 * The file keeps the mission-keyed format (`{ "<mission>": GuidanceState }`); other
 * missions' entries are carried over byte-for-byte as parsed JSON.
 */

export type { GuidanceEdit, GuidanceWithHash, GuidanceWriteOptions } from '../engine/ports/GuidancePort';

/** The metadata a write stamps on the rules it changed without giving their metadata. */
function stampOf(by: GuidanceWriteBy, updatedAt: string): RuleStamp {
  const engine = by.kind === 'reflection' || by.kind === 'approval';
  return {
    origin: engine ? 'reflection' : by.kind === 'rollback' ? 'rollback' : 'annotator',
    author: engine ? null : (by.author ?? null),
    approved_by: by.kind === 'approval' ? (by.author ?? null) : null,
    reflection_id: by.reflection_id ?? null,
    updated_at: updatedAt,
  };
}

/** The filesystem calls the writer makes; tests inject real errno failures (ENOSPC, EROFS) here. */
export type GuidanceFsIo = {
  open: typeof fsp.open;
  rename: typeof fsp.rename;
  link: typeof fsp.link;
};

export type GuidanceRepositoryOptions = {
  path: string;
  mission: string;
  /** Default: the run's snapshot folder next to the guidance file. */
  snapshotDir?: string;
  /** How many snapshots to keep (oldest pruned first). Default 100; Infinity keeps all. */
  retention?: number;
  lock?: Pick<FileLockOptions, 'timeoutMs' | 'staleAfterMs'>;
  clock?: () => Date;
  io?: Partial<GuidanceFsIo>;
};

export type RunGuidanceOptions = Omit<GuidanceRepositoryOptions, 'path' | 'snapshotDir'> & { missionDir: string };

/**
 * The guidance of the mission run in `missionDir` (its guidance file and snapshot folder, as
 * the run layout names them): how the engine's composition, the workbench API and the CLI
 * commands open a run's guidance port.
 */
export function openRunGuidance(options: RunGuidanceOptions): GuidanceRepository {
  const { missionDir, ...rest } = options;
  return new GuidanceRepository({ ...rest, path: path.join(missionDir, RUN_FILES.guidance), snapshotDir: path.join(missionDir, RUN_FILES.snapshots) });
}

const WRITE_ERRNOS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'EBUSY', 'EFBIG']);

type CurrentFile = {
  text: string;
  /** The whole file as parsed JSON, so other missions are written back untouched. */
  raw: Record<string, unknown>;
  state: GuidanceState;
  hash: string;
};


type CommitRequest = {
  next: GuidanceEdit;
  baseStep: number;
  expectedHash?: string;
  by: GuidanceWriteBy;
  /** Rollbacks restore a snapshot verbatim, invariants included. */
  verbatim?: boolean;
};

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function lineOfPosition(text: string, message: string): number | undefined {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  if (!position) return undefined;
  return text.slice(0, Number(position[1])).split('\n').length;
}

function orderedState(state: GuidanceState): GuidanceState {
  const experiences: Record<string, string> = {};
  for (const key of sortExperienceKeys(Object.keys(state.experiences))) experiences[key] = state.experiences[key];
  const metadata: Record<string, ExperienceMeta> = {};
  for (const key of sortExperienceKeys(Object.keys(state.metadata ?? {}))) metadata[key] = state.metadata[key];
  const out: GuidanceState = { step: state.step, updated_at: state.updated_at, experiences, metadata };
  if (state.applied_plans && state.applied_plans.length > 0) out.applied_plans = state.applied_plans;
  if (state.written_by) out.written_by = state.written_by;
  return out;
}

export class GuidanceRepository implements GuidancePort {
  readonly path: string;
  readonly mission: string;
  readonly snapshotDir: string;
  readonly lockPath: string;
  private readonly retention: number;
  /** Snapshot tmp files are named after the live file, so two guidance files never clean up each other's. */
  private readonly snapshotTmpBase: string;
  private readonly lockOptions: FileLockOptions;
  private readonly clock: () => Date;
  private readonly io: GuidanceFsIo;
  /** The step and hash this instance last saw, to catch a same-step hand edit when the caller gives no hash. */
  private lastSeen: { step: number; hash: string } | null = null;

  constructor(options: GuidanceRepositoryOptions) {
    this.path = path.resolve(options.path);
    this.mission = options.mission;
    this.snapshotDir = path.resolve(options.snapshotDir ?? path.join(path.dirname(this.path), RUN_FILES.snapshots));
    this.lockPath = `${this.path}.lock`;
    this.retention = options.retention ?? 100;
    this.snapshotTmpBase = `${path.basename(this.path)}.snapshot`;
    this.lockOptions = { timeoutMs: 10_000, ...options.lock, lockedCode: 'GUIDANCE_LOCKED' };
    this.clock = options.clock ?? (() => new Date());
    this.io = { open: fsp.open, rename: fsp.rename, link: fsp.link, ...options.io };
  }

  /**
   * Creates the live file from `initial` when it does not exist, or adds this mission to
   * an existing file that lacks it. An existing mission entry is kept as it is: a resumed
   * run continues with the guidance it had.
   */
  async initialize(initial: StoredGuidanceState): Promise<GuidanceWithHash> {
    const parsed = GuidanceStateSchema.safeParse(initial);
    if (!parsed.success) {
      const issue = describeZodIssue(parsed.error.issues[0]);
      throw new StageBError('GUIDANCE_INVALID', `initial guidance is invalid: ${issue.message}`, { file: this.path, field: `${this.mission}.${issue.field}` });
    }
    return this.locked(async () => {
      let raw: Record<string, unknown> = {};
      try {
        const current = await this.readCurrent();
        this.remember(current);
        return { ...current.state, hash: current.hash };
      } catch (error) {
        if (!(error instanceof StageBError) || error.code !== 'GUIDANCE_NOT_FOUND') throw error;
        if ((error.details as { missing?: string } | undefined)?.missing === 'mission') {
          raw = (error.details as { raw: Record<string, unknown> }).raw;
        }
      }
      const state = orderedState(parsed.data);
      await this.writeLive({ ...raw, [this.mission]: state });
      const hash = guidanceContentHash(state);
      this.lastSeen = { step: state.step, hash };
      return { ...state, hash };
    });
  }

  async read(): Promise<GuidanceWithHash> {
    const current = await this.readCurrent();
    this.remember(current);
    return { ...current.state, hash: current.hash };
  }

  /**
   * Compare-and-swap write of a whole new experiences/metadata pair, based on `baseStep`.
   * Throws GUIDANCE_STEP_CONFLICT (details: baseStep, currentStep, current) when the file
   * moved, GUIDANCE_LOCKED when the lock cannot be had, IO_WRITE_FAILED on disk faults
   * (the live file is then unchanged).
   */
  async write(next: GuidanceEdit, baseStep: number, options: GuidanceWriteOptions = {}): Promise<GuidanceWithHash> {
    const result = await this.commit({ next, baseStep, expectedHash: options.expectedHash, by: options.by ?? { kind: 'save', author: null } });
    return result.state;
  }

  /**
   * A rollback is a new step whose content equals the snapshot's (rule ids included); nothing
   * is deleted. written_by records who rolled back and which snapshot (and step) was restored.
   */
  async rollback(snapshotName: string, baseStep: number, options: GuidanceRollbackOptions = {}): Promise<GuidanceWithHash> {
    const snapshot = await this.readSnapshot(snapshotName);
    const result = await this.commit({
      next: { experiences: snapshot.experiences, metadata: snapshot.metadata },
      baseStep,
      expectedHash: options.expectedHash,
      verbatim: true,
      by: { kind: 'rollback', author: options.author ?? null, restored_snapshot: snapshotName, restored_step: snapshot.step },
    });
    return result.state;
  }

  /**
   * Snapshots, newest first. One that does not parse is still listed (step and updated_at
   * null), so that a broken snapshot is seen rather than silently missing.
   */
  async listSnapshots(): Promise<SnapshotInfo[]> {
    const names = (await this.snapshotNames()).reverse();
    const infos = await Promise.all(
      names.map(async (name): Promise<SnapshotInfo | null> => {
        const file = path.join(this.snapshotDir, name);
        const size = await fsp.stat(file).then((stat) => stat.size, () => null);
        // A snapshot pruned meanwhile is not listed.
        if (size === null) return null;
        const state = await this.readSnapshot(name).catch(() => null);
        return { name, step: state?.step ?? null, updated_at: state?.updated_at ?? null, size_bytes: size };
      }),
    );
    return infos.filter((info): info is SnapshotInfo => info !== null);
  }

  async readSnapshot(name: string): Promise<GuidanceWithHash> {
    if (typeof name !== 'string' || !isSnapshotName(name)) {
      throw new StageBError('GUIDANCE_NOT_FOUND', `${JSON.stringify(name)} is not a snapshot name (guidance-YYYYMMDD-HHMMSS-ffffff.json)`, {
        file: this.snapshotDir,
        field: 'snapshot',
      });
    }
    const file = path.join(this.snapshotDir, name);
    const current = await this.parseFile(file);
    return { ...current.state, hash: current.hash };
  }

  // ── internals ────────────────────────────────────────────────────────────

  private remember(current: { state: GuidanceState; hash: string }): void {
    this.lastSeen = { step: current.state.step, hash: current.hash };
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    await fsp.mkdir(path.dirname(this.path), { recursive: true }).catch((error) => {
      throw this.writeFailure(path.dirname(this.path), error);
    });
    const lock = await acquireFileLock(this.lockPath, this.lockOptions);
    try {
      await this.removeOrphanTmpFiles();
      return await fn();
    } finally {
      await lock.release();
    }
  }

  private conflict(baseStep: number, current: GuidanceWithHash, why: string): StageBError {
    return new StageBError(
      'GUIDANCE_STEP_CONFLICT',
      `guidance for ${this.mission} changed since step ${baseStep} (now step ${current.step}): ${why}; reload and reapply the edit`,
      { file: this.path, field: 'step' },
      { baseStep, currentStep: current.step, current },
    );
  }

  private async commit(request: CommitRequest): Promise<{ state: GuidanceWithHash; changed: boolean }> {
    return this.locked(async () => {
      const current = await this.readCurrent();
      const currentWithHash: GuidanceWithHash = { ...current.state, hash: current.hash };
      if (current.state.step !== request.baseStep) throw this.conflict(request.baseStep, currentWithHash, 'another writer saved first');
      const expectedHash = request.expectedHash ?? (this.lastSeen?.step === request.baseStep ? this.lastSeen.hash : undefined);
      if (expectedHash !== undefined && expectedHash !== current.hash) {
        throw this.conflict(request.baseStep, currentWithHash, 'the file was edited without a step change (a hand edit?)');
      }

      const state = this.nextState(current.state, request);
      await this.snapshotAndReplace(current, { ...current.raw, [this.mission]: state });
      const hash = guidanceContentHash(state);
      this.lastSeen = { step: state.step, hash };
      await this.pruneSnapshots();
      return { state: { ...state, hash }, changed: true };
    });
  }

  private nextState(current: GuidanceState, request: CommitRequest): GuidanceState {
    const experiences = { ...request.next.experiences };
    const issues = guidanceEditIssues(experiences, current.experiences, { verbatim: request.verbatim });
    if (issues.length > 0) {
      const [first] = issues;
      throw new StageBError(first.code, first.message, { file: this.path, field: `${this.mission}.${first.field}` }, { issues });
    }
    const updatedAt = this.clock().toISOString();
    const by = GuidanceWriteBySchema.parse(request.by);
    const metadata: Record<string, StoredExperienceMeta> = request.verbatim
      ? { ...(request.next.metadata ?? {}) }
      : carryRuleMetadata(current, request.next, stampOf(by, updatedAt));
    // Files written before reflection applied through the compare-and-swap alone keep their list.
    const appliedPlans = current.applied_plans ?? [];
    const candidate = {
      step: current.step + 1,
      updated_at: updatedAt,
      experiences,
      metadata,
      applied_plans: appliedPlans.length > 0 ? appliedPlans : undefined,
      written_by: { ...by, step: current.step + 1, at: updatedAt },
    };
    const parsed = GuidanceStateSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = describeZodIssue(parsed.error.issues[0]);
      throw new StageBError('GUIDANCE_INVALID', `new guidance is invalid: ${issue.message}`, { file: this.path, field: `${this.mission}.${issue.field}` });
    }
    return orderedState(parsed.data);
  }

  private async readCurrent(): Promise<CurrentFile> {
    return this.parseFile(this.path);
  }

  private async parseFile(file: string): Promise<CurrentFile> {
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(file);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') throw new StageBError('GUIDANCE_NOT_FOUND', `guidance file ${file} does not exist`, { file });
      if (errnoOf(error) === 'EISDIR') throw new StageBError('GUIDANCE_INVALID', `expected a guidance file at ${file} but found a directory`, { file });
      throw new StageBError('IO_READ_FAILED', `cannot read guidance file ${file}: ${(error as Error).message}`, { file });
    }
    const text = decodeUtf8Strict(bytes, file, 'GUIDANCE_INVALID');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      const message = (error as Error).message;
      throw new StageBError('GUIDANCE_INVALID', `guidance file is not valid JSON: ${message}`, { file, line: lineOfPosition(text, message) });
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new StageBError('GUIDANCE_INVALID', 'guidance file must be a JSON object keyed by mission', { file });
    }
    const parsed = GuidanceFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = describeZodIssue(parsed.error.issues[0]);
      throw new StageBError('GUIDANCE_INVALID', `guidance file is invalid: ${issue.message}`, { file, field: issue.field });
    }
    const file_: GuidanceFile = parsed.data;
    const state = file_[this.mission];
    if (!state) {
      throw new StageBError(
        'GUIDANCE_NOT_FOUND',
        `guidance file ${file} has no entry for mission ${JSON.stringify(this.mission)} (has: ${Object.keys(file_).join(', ') || 'none'})`,
        { file, field: this.mission },
        { missing: 'mission', raw },
      );
    }
    return { text, raw: raw as Record<string, unknown>, state, hash: guidanceContentHash(state) };
  }

  private writeFailure(file: string, error: unknown): StageBError {
    if (error instanceof StageBError) return error;
    const errno = errnoOf(error);
    const hint = errno === 'ENOSPC' ? ' (disk full)' : errno === 'EROFS' ? ' (read-only filesystem)' : errno === 'EACCES' || errno === 'EPERM' ? ' (permission denied)' : '';
    return new StageBError(
      'IO_WRITE_FAILED',
      `cannot write ${file}: ${errno ?? 'error'}${hint}: ${(error as Error)?.message ?? String(error)}. The guidance file was not changed.`,
      { file },
      { errno: errno ?? null, retryable: errno !== undefined && WRITE_ERRNOS.has(errno) },
    );
  }

  /** Writes `content` to `target` through a private tmp file: write, fsync, then `commit(tmp)`; the tmp never outlives a failure. */
  private async writeViaTmp(target: string, content: string, commit: (tmp: string) => Promise<void>): Promise<void> {
    const tmp = tempPathFor(target);
    const hold = holdTempPath(tmp);
    try {
      const handle = await this.io.open(tmp, 'wx');
      try {
        await handle.writeFile(content, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await commit(tmp);
    } catch (error) {
      throw this.writeFailure(target, error);
    } finally {
      await fsp.unlink(tmp).catch(() => undefined);
      hold.release();
    }
  }

  private async writeLive(file: Record<string, unknown>): Promise<void> {
    await this.writeViaTmp(this.path, JSON.stringify(file, null, 2) + '\n', async (tmp) => {
      await this.io.rename(tmp, this.path);
    });
    await fsyncDir(path.dirname(this.path));
  }

  /** Snapshot the current file under a fresh, strictly increasing name, then replace the live file. */
  private async snapshotAndReplace(current: CurrentFile, file: Record<string, unknown>): Promise<void> {
    await fsp.mkdir(this.snapshotDir, { recursive: true }).catch((error) => {
      throw this.writeFailure(this.snapshotDir, error);
    });
    const existing = await this.snapshotNames();
    const newestName = existing.length > 0 ? existing[existing.length - 1] : null;
    // A writer killed between its snapshot and the live replace left a snapshot of exactly
    // this file: it is this write's snapshot already, and a second one would duplicate it.
    if (newestName !== null && (await this.snapshotText(newestName)) === current.text) {
      await this.writeLive(file);
      return;
    }
    const newest = newestName !== null ? microsFromSnapshotName(newestName) : null;
    let micros = Math.max(nowMicros(), newest === null ? 0 : newest + 1);
    let snapshot = '';
    await this.writeViaTmp(path.join(this.snapshotDir, this.snapshotTmpBase), current.text, async (tmp) => {
      // link fails on an existing name, so two snapshots can never share one, even within a microsecond.
      for (;;) {
        snapshot = path.join(this.snapshotDir, snapshotNameFromMicros(micros));
        try {
          await this.io.link(tmp, snapshot);
          return;
        } catch (error) {
          if (errnoOf(error) !== 'EEXIST') throw error;
          micros += 1;
        }
      }
    });
    await fsyncDir(this.snapshotDir);
    try {
      await this.writeLive(file);
    } catch (error) {
      // The live file is unchanged, so the snapshot duplicates it; drop it.
      await fsp.unlink(snapshot).catch(() => undefined);
      throw error;
    }
  }

  /** A snapshot's bytes as text; null when it cannot be read (then it is not this file's snapshot). */
  private async snapshotText(name: string): Promise<string | null> {
    return fsp.readFile(path.join(this.snapshotDir, name), 'utf8').catch(() => null);
  }

  private async snapshotNames(): Promise<string[]> {
    try {
      return (await fsp.readdir(this.snapshotDir)).filter(isSnapshotName).sort();
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return [];
      throw new StageBError('IO_READ_FAILED', `cannot list snapshots in ${this.snapshotDir}: ${(error as Error).message}`, { file: this.snapshotDir });
    }
  }

  private async pruneSnapshots(): Promise<void> {
    if (!Number.isFinite(this.retention)) return;
    const names = await this.snapshotNames();
    const excess = names.length - Math.max(0, this.retention);
    for (const name of names.slice(0, Math.max(0, excess))) await fsp.unlink(path.join(this.snapshotDir, name)).catch(() => undefined);
  }

  /**
   * Temp files of writers that died mid-write. Called under the lock, so no writer of
   * this file is between its temp file and its rename (a live holder of a lock broken as
   * stale is spared by pid).
   */
  private async removeOrphanTmpFiles(): Promise<void> {
    const live = path.basename(this.path);
    await removeLeftoverTempFiles(path.dirname(this.path), { targets: (target) => target === live });
    await removeLeftoverTempFiles(this.snapshotDir, { targets: (target) => target === this.snapshotTmpBase });
  }
}

/** Makes a rename durable; directories cannot be fsynced on every platform, which is then accepted. */
async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM on Windows; the rename itself already happened.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
