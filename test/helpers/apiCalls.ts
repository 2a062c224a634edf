import { dispatchApiCall } from '../../src/main/api/dispatchApiCall';
import type { WorkbenchApi } from '../../src/main/api/createWorkbenchApi';

/**
 * API calls as the transports make them (dispatchApiCall: input parsed, errors as envelopes), for tests whose
 * workbench API is created in a hook: `call` returns the envelope, `ok` the result or throws naming the method.
 */
export function apiCalls(api: () => Pick<WorkbenchApi, 'handlers'>) {
  const call = (method: string, input: unknown) => dispatchApiCall(api().handlers, method, input);
  async function ok<T = any>(method: string, input: unknown): Promise<T> {
    const envelope = await call(method, input);
    if (!envelope.ok) throw new Error(`${method} failed: ${JSON.stringify(envelope.error)}`);
    return envelope.result as T;
  }
  return { call, ok };
}
