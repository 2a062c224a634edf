import { formatError, type SerializedError } from '../errors';
import type { ApiEvent, ApiInput, ApiMethod, ApiOutput } from './contract';

/**
 * What the renderer talks to. The Electron preload bridge (window.stagebApi) and
 * the HTTP client (createHttpClient) both implement it; a method resolves with
 * the method's output or rejects with an ApiCallError carrying the
 * SerializedError to show verbatim.
 */
export type ApiClient = {
  [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>>;
} & {
  /** Subscribes to pushed events (run progress, job status); returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
};

/** The global name under which the Electron preload exposes its ApiClient. */
export const PRELOAD_GLOBAL = 'stagebApi';

/** IPC channels: one per method (`api:<method>`) plus the event channel. */
export const IPC_METHOD_PREFIX = 'api:';
export const IPC_EVENT_CHANNEL = 'api-event';

export function ipcChannelFor(method: ApiMethod): string {
  return `${IPC_METHOD_PREFIX}${method}`;
}

/** A failed API call; `error` is what the server (or the transport) reported. */
export class ApiCallError extends Error {
  readonly error: SerializedError;
  readonly method: string;

  constructor(method: string, error: SerializedError) {
    super(formatError(error));
    this.name = 'ApiCallError';
    this.method = method;
    this.error = error;
  }

  format(): string {
    return formatError(this.error);
  }
}

export function isApiCallError(value: unknown): value is ApiCallError {
  return value instanceof ApiCallError;
}
