import type { GuidancePort } from '../engine/ports/GuidancePort';
import type { EventHub } from './EventHub';
import type { JobRunner } from './JobRunner';
import type { JsonlIndexCache } from './JsonlIndexCache';

/** Opens the guidance port of one mission run (default: src/main/io/GuidanceRepository's openRunGuidance). */
export type OpenRunGuidance = (run: { missionDir: string; mission: string; retention: number }) => GuidancePort;

/** Parses and validates run-config YAML text (src/main/io/loadRunConfig.ts parseRunConfigText). */
export type ConfigParser = (text: string, fileLabel: string) => { config: unknown };

export type ApiContext = {
  runsRoot: string;
  /** null: the config methods answer API_NOT_FOUND. */
  configsRoot: string | null;
  indexes: JsonlIndexCache;
  jobs: JobRunner;
  events: EventHub;
  openGuidance: OpenRunGuidance;
  parseConfig: ConfigParser;
  snapshotRetention: number;
  now: () => Date;
};
