import type { GuidanceState, GuidanceWriteBy, StoredExperienceMeta } from '../../../shared/schemas/guidance';
import type { SnapshotInfo } from '../../../shared/api/contract';

/** A guidance state with the content hash of what was read or written (a hand edit changes it without moving the step). */
export type GuidanceWithHash = GuidanceState & { hash: string };

/** A whole new experiences map; metadata may be partial (the writer carries rule ids and stamps changed rules). */
export type GuidanceEdit = { experiences: Record<string, string>; metadata?: Record<string, StoredExperienceMeta> };

export type GuidanceWriteOptions = {
  /** The content hash the caller based its edit on; a different hash at the same step is a hand edit, so a conflict. */
  expectedHash?: string;
  /** Who makes the step (recorded as the state's written_by). Default: a save by an unnamed person. */
  by?: GuidanceWriteBy;
};

export type GuidanceRollbackOptions = {
  expectedHash?: string;
  /** Who rolls back; written_by records them with the snapshot (and step) restored. */
  author?: string | null;
};

/**
 * The one way to read and change the guidance of a mission run, for the engine (sampling,
 * reflection's apply), the workbench API (editor, review queue, snapshots screen) and the
 * CLI alike. src/main/io/GuidanceRepository.ts implements it on the run's guidance.json and
 * snapshots/ with the write rule of ARCHITECTURE.md §5: every change names the step it is
 * based on and lands only if the guidance is still at that step (compare-and-swap), and the
 * state it replaces is snapshotted first.
 */
export interface GuidancePort {
  read(): Promise<GuidanceWithHash>;
  /**
   * Compare-and-swap: writes step `baseStep + 1` only if the stored step is still `baseStep`
   * (and its content hash the one expected). Throws StageBError GUIDANCE_STEP_CONFLICT
   * (details: baseStep, currentStep, current) when the guidance moved, GUIDANCE_REJECTED_OPERATION
   * when the edit breaks a guidance rule, IO_WRITE_FAILED on a disk fault (nothing changed then).
   */
  write(next: GuidanceEdit, baseStep: number, options?: GuidanceWriteOptions): Promise<GuidanceWithHash>;
  /** A new step, based on `baseStep` by the same compare-and-swap, whose content is the snapshot's; nothing is deleted. */
  rollback(snapshot: string, baseStep: number, options?: GuidanceRollbackOptions): Promise<GuidanceWithHash>;
  /** Every snapshot, newest first; one that cannot be read is listed with step and updated_at null. */
  listSnapshots(): Promise<SnapshotInfo[]>;
  /** One snapshot's state; GUIDANCE_NOT_FOUND for a name that is not a snapshot of this guidance. */
  readSnapshot(name: string): Promise<GuidanceWithHash>;
}
