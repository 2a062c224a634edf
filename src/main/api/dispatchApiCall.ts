import { StageBError, toStageBError } from '../../shared/errors';
import { api, isApiMethod, type ApiEnvelope, type ApiMethod } from '../../shared/api/contract';
import type { ApiHandlers } from './createWorkbenchApi';

export type DispatchOptions = {
  /** Validate the handler's output against the contract too (cheap; catches drift). Default true. */
  checkOutput?: boolean;
};

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): { message: string; field?: string } {
  const first = issues[0];
  const field = first.path.map(String).join('.');
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
  return { message: `${field ? `${field}: ` : ''}${first.message}${more}`, field: field || undefined };
}

/**
 * The one entry every transport calls: unknown method → API_NOT_FOUND, input
 * that fails the method's schema → API_INVALID_REQUEST with the zod issue, any
 * failure → a SerializedError. Never throws.
 */
export async function dispatchApiCall(handlers: ApiHandlers, method: string, rawInput: unknown, options: DispatchOptions = {}): Promise<ApiEnvelope> {
  if (!isApiMethod(method)) {
    return { ok: false, error: new StageBError('API_NOT_FOUND', `unknown API method ${JSON.stringify(String(method).slice(0, 80))}`).toJSON() };
  }
  const spec = api[method as ApiMethod];
  const parsed = spec.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    const { message, field } = describeIssues(parsed.error.issues);
    return { ok: false, error: new StageBError('API_INVALID_REQUEST', `${method}: ${message}`, { field }).toJSON() };
  }
  try {
    const handler = handlers[method] as (input: unknown) => Promise<unknown>;
    const result = await handler(parsed.data);
    if (options.checkOutput ?? true) {
      const checked = spec.output.safeParse(result);
      if (!checked.success) {
        const { message, field } = describeIssues(checked.error.issues);
        return { ok: false, error: new StageBError('INTERNAL', `${method} produced an invalid response: ${message}`, { field }).toJSON() };
      }
      return { ok: true, result: checked.data };
    }
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: toStageBError(error).toJSON() };
  }
}
