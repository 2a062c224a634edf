import type { ApiMethod } from './contract';

/**
 * The method names alone, for the sandboxed preload, which should not bundle zod
 * and every schema. `satisfies` makes the compiler fail when this drifts from the
 * contract table (a method missing here or one too many).
 */
const METHOD_FLAGS = {
  listRuns: true,
  listMissions: true,
  queryRows: true,
  groupDetail: true,
  reflectionLog: true,
  listSnapshots: true,
  readSnapshot: true,
  guidanceRead: true,
  guidanceSave: true,
  guidanceRollback: true,
  qaQueue: true,
  markReviewed: true,
  qaUndoReview: true,
  qaExportReviews: true,
  qaLabelCorrections: true,
  charts: true,
  reviewQueue: true,
  reviewAccept: true,
  reviewDismiss: true,
  listConfigs: true,
  readConfig: true,
  validateConfig: true,
  saveConfig: true,
  startRun: true,
  cancelRun: true,
  listJobs: true,
  attributionStart: true,
  attributionResult: true,
  previewStart: true,
  previewResult: true,
  pauseJob: true,
  resumeJob: true,
  runSteps: true,
  compare: true,
  saveConfigAs: true,
} as const satisfies Record<ApiMethod, true>;

export const API_METHOD_NAMES = Object.keys(METHOD_FLAGS) as ApiMethod[];
