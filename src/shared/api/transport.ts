import { formatError, type SerializedError } from '../errors';
import type { ApiEnvelope, ApiEvent, ApiInput, ApiMethod, ApiOutput } from './contract';

/**
 * What the renderer talks to. The Electron bridge (createBridgeClient over
 * window.stagebBridge) and the HTTP client (createHttpClient) both implement it;
 * a method resolves with the method's output or rejects with an ApiCallError
 * carrying the SerializedError to show verbatim. selectApiClient() picks one.
 */
export type ApiClient = {
  [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>>;
} & {
  /** Subscribes to pushed events (run progress, job status); returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
};

/**
 * What the Electron preload exposes (contextBridge cannot carry Error subclasses,
 * so each method resolves with the envelope; createBridgeClient turns it into an ApiClient).
 */
export type PreloadBridge = {
  [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiEnvelope>;
} & {
  onEvent(listener: (event: ApiEvent) => void): () => void;
};

/** The global name under which the Electron preload exposes its PreloadBridge. */
export const PRELOAD_GLOBAL = 'stagebBridge';

/** IPC: one invoke channel carrying { method, input }, and one channel for pushed events. */
export const IPC_INVOKE_CHANNEL = 'stageb:api';
export const IPC_EVENT_CHANNEL = 'stageb:event';

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
