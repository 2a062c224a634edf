import type { GuidanceState, GuidanceWriteBy, StoredExperienceMeta } from '../../shared/schemas/guidance';
import type { EventHub } from './EventHub';
import type { JobRunner } from './JobRunner';
import type { JsonlIndexCache } from './JsonlIndexCache';

/** The slice of src/main/io/GuidanceRepository the workbench uses (compare-and-swap writes, ARCHITECTURE.md §5). */
export type GuidanceWithHash = GuidanceState & { hash?: string };

export interface GuidanceWriter {
  read(): Promise<GuidanceWithHash>;
  /** Throws StageBError GUIDANCE_STEP_CONFLICT (details { baseStep, currentStep, current }) when the file moved. */
  write(
    next: { experiences: Record<string, string>; metadata?: Record<string, StoredExperienceMeta> },
    baseStep: number,
    options?: { expectedHash?: string; by?: GuidanceWriteBy },
  ): Promise<GuidanceWithHash>;
  rollback(snapshotName: string, baseStep: number, options?: { expectedHash?: string; author?: string | null }): Promise<GuidanceWithHash>;
}

export type GuidanceWriterFactory = (options: { path: string; mission: string; snapshotDir: string; retention: number }) => GuidanceWriter;

/** Parses and validates run-config YAML text (src/main/io/loadRunConfig.ts parseRunConfigText). */
export type ConfigParser = (text: string, fileLabel: string) => { config: unknown };

export type ApiContext = {
  runsRoot: string;
  /** null: the config methods answer API_NOT_FOUND. */
  configsRoot: string | null;
  indexes: JsonlIndexCache;
  jobs: JobRunner;
  events: EventHub;
  guidanceWriter: GuidanceWriterFactory;
  parseConfig: ConfigParser;
  snapshotRetention: number;
  now: () => Date;
};
