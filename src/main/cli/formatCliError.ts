import { formatError, type ErrorCode, type SerializedError, type StageBError } from '../../shared/errors';
import type { Verbosity } from './Command';

type IssueLike = { message: string; code?: ErrorCode; file?: string; line?: number; field?: string };

function isIssueList(details: unknown): details is IssueLike[] {
  return Array.isArray(details) && details.length > 0 && details.every((item) => typeof item === 'object' && item !== null && typeof (item as IssueLike).message === 'string');
}

/**
 * Every issue an error carries, each a full error of its own: config and Stage-A
 * validation collect several (in `details`), and a person fixes them all in one pass
 * only if all are shown. An error without a list is its own single issue.
 */
export function errorIssues(error: StageBError): SerializedError[] {
  if (!isIssueList(error.details)) return [error.toJSON()];
  return error.details.map((issue) => ({
    code: issue.code ?? error.code,
    message: issue.message,
    location: {
      ...(issue.file ?? error.location.file ? { file: issue.file ?? error.location.file } : {}),
      ...(issue.line !== undefined ? { line: issue.line } : {}),
      ...(issue.field ? { field: issue.field } : {}),
    },
  }));
}

/** What the CLI prints for a failed command: one `CODE file:line field: message` line per issue. */
export function formatCliError(error: StageBError, verbosity: Verbosity): string {
  const issues = errorIssues(error);
  const lines = issues.map(formatError);
  if (issues.length > 1) lines.push(`${issues.length} issues`);
  if (verbosity === 'verbose') {
    if (!isIssueList(error.details) && error.details !== undefined) lines.push(`details: ${JSON.stringify(error.details, null, 2)}`);
    if (error.stack) lines.push(error.stack);
  }
  return `${lines.join('\n')}\n`;
}
