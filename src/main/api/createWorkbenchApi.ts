import path from 'node:path';
import type { ApiMethod, ApiOutput, ApiParsedInput } from '../../shared/api/contract';
import type { ApiContext, ConfigParser, GuidanceWriterFactory } from './ApiContext';
import { EventHub } from './EventHub';
import { JobRunner, type EngineLauncher } from './JobRunner';
import { JsonlIndexCache } from './JsonlIndexCache';
import * as configMethods from './configMethods';
import * as guidanceMethods from './guidanceMethods';
import * as runMethods from './runMethods';
import * as reviewQueueMethods from './reviewQueueMethods';
import * as holdoutJobMethods from './holdoutJobMethods';

export type ApiHandlers = { [M in ApiMethod]: (input: ApiParsedInput<M>) => Promise<ApiOutput<M>> };

export type WorkbenchApiOptions = {
  runsRoot: string;
  configsRoot?: string | null;
  engineLauncher: EngineLauncher;
  guidanceWriter: GuidanceWriterFactory;
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
    guidanceWriter: options.guidanceWriter,
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
    saveConfigAs: (input) => configMethods.saveConfigAs(ctx, input),
  };
  return { handlers, events, jobs, context: ctx };
}
