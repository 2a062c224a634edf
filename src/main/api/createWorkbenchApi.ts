import path from 'node:path';
import type { ApiMethod, ApiOutput, ApiParsedInput } from '../../shared/api/contract';
import type { ApiContext, ConfigParser, OpenRunGuidance } from './ApiContext';
import { openRunGuidance } from '../io/GuidanceRepository';
import { EventHub } from './EventHub';
import { JobRunner, type EngineLauncher } from './JobRunner';
import { JsonlIndexCache } from './JsonlIndexCache';
import * as configMethods from './configMethods';
import * as guidanceMethods from './guidanceMethods';
import * as runMethods from './runMethods';
import * as reviewQueueMethods from './reviewQueueMethods';
import * as holdoutJobMethods from './holdoutJobMethods';
import * as compareMethods from './compareMethods';

export type ApiHandlers = { [M in ApiMethod]: (input: ApiParsedInput<M>) => Promise<ApiOutput<M>> };

export type WorkbenchApiOptions = {
  runsRoot: string;
  configsRoot?: string | null;
  engineLauncher: EngineLauncher;
  /** Default: the run's guidance file through GuidanceRepository (tests widen its retention or lock timeout). */
  openGuidance?: OpenRunGuidance;
  parseConfig: ConfigParser;
  snapshotRetention?: number;
  cancelGraceMs?: number;
  maxIndexedFiles?: number;
  now?: () => Date;
};

export type WorkbenchApi = { handlers: ApiHandlers; events: EventHub; jobs: JobRunner; context: ApiContext };

/** The API over run directories, independent of the transport that carries it. */
export function createWorkbenchApi(options: WorkbenchApiOptions): WorkbenchApi {
  const events = new EventHub();
  const jobs = new JobRunner(options.engineLauncher, events, options.cancelGraceMs);
  const ctx: ApiContext = {
    runsRoot: path.resolve(options.runsRoot),
    configsRoot: options.configsRoot ? path.resolve(options.configsRoot) : null,
    indexes: new JsonlIndexCache(options.maxIndexedFiles),
    jobs,
    events,
    openGuidance: options.openGuidance ?? ((run) => openRunGuidance(run)),
    parseConfig: options.parseConfig,
    snapshotRetention: options.snapshotRetention ?? 50,
    now: options.now ?? (() => new Date()),
  };
  const handlers: ApiHandlers = {
    listRuns: () => runMethods.listRuns(ctx),
    listMissions: () => runMethods.listMissions(ctx),
    queryRows: (input) => runMethods.queryRows(ctx, input),
    groupDetail: (input) => runMethods.groupDetail(ctx, input),
    reflectionLog: (input) => guidanceMethods.reflectionLog(ctx, input),
    listSnapshots: (input) => guidanceMethods.listSnapshots(ctx, input),
    readSnapshot: (input) => guidanceMethods.readSnapshot(ctx, input),
    guidanceRead: (input) => guidanceMethods.guidanceRead(ctx, input),
    guidanceSave: (input) => guidanceMethods.guidanceSave(ctx, input),
    guidanceRollback: (input) => guidanceMethods.guidanceRollback(ctx, input),
    qaQueue: (input) => runMethods.qaQueue(ctx, input),
    markReviewed: (input) => runMethods.markReviewed(ctx, input),
    qaUndoReview: (input) => runMethods.qaUndoReview(ctx, input),
    qaExportReviews: (input) => runMethods.qaExportReviews(ctx, input),
    qaLabelCorrections: (input) => runMethods.qaLabelCorrections(ctx, input),
    charts: (input) => runMethods.charts(ctx, input),
    reviewQueue: (input) => reviewQueueMethods.reviewQueue(ctx, input),
    reviewAccept: (input) => reviewQueueMethods.reviewAccept(ctx, input),
    reviewDismiss: (input) => reviewQueueMethods.reviewDismiss(ctx, input),
    listConfigs: () => configMethods.listConfigs(ctx),
    readConfig: (input) => configMethods.readConfig(ctx, input),
    validateConfig: (input) => configMethods.validateConfig(ctx, input),
    saveConfig: (input) => configMethods.saveConfig(ctx, input),
    startRun: (input) => configMethods.startRun(ctx, input),
    cancelRun: (input) => configMethods.cancelRun(ctx, input),
    listJobs: () => configMethods.listJobs(ctx),
    attributionStart: (input) => holdoutJobMethods.attributionStart(ctx, input),
    attributionResult: (input) => holdoutJobMethods.attributionResult(ctx, input),
    previewStart: (input) => holdoutJobMethods.previewStart(ctx, input),
    previewResult: (input) => holdoutJobMethods.previewResult(ctx, input),
    pauseJob: async (input) => ({ requested: jobs.pause(input.jobId) }),
    resumeJob: async (input) => ({ requested: jobs.resume(input.jobId) }),
    runSteps: (input) => compareMethods.runSteps(ctx, input),
    compare: (input) => compareMethods.compare(ctx, input),
    saveConfigAs: (input) => configMethods.saveConfigAs(ctx, input),
  };
  return { handlers, events, jobs, context: ctx };
}
