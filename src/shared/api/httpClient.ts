import type { SerializedError } from '../errors';
import { API_METHODS, ApiEnvelopeSchema, ApiEventSchema, type ApiEvent, type ApiMethod } from './contract';
import { ApiCallError, type ApiClient } from './transport';

/** The minimal fetch / EventSource surface the client needs (globals in a browser). */
type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{
  status: number;
  text(): Promise<string>;
}>;
type EventSourceLike = {
  onmessage: ((message: { data: string }) => void) | null;
  close(): void;
};
type EventSourceFactory = (url: string) => EventSourceLike;

export type HttpClientOptions = {
  /** Origin + path prefix of the server; '' = same origin. */
  baseUrl?: string;
  /** The per-launch token; defaults to the `token` parameter of location.hash. */
  token?: string;
  fetch?: FetchLike;
  eventSource?: EventSourceFactory;
};

/**
 * How the web server starts its refusal of a request without the per-launch token
 * (API_FORBIDDEN, HTTP 401); the renderer tells it apart from other API_FORBIDDEN refusals by it.
 */
export const TOKEN_REFUSED = 'missing or wrong token';

/** Reads `token` from a hash like `#token=abc` or `#/runs?token=abc&x=1`. */
export function tokenFromHash(hash: string): string | null {
  const match = /[#?&]token=([^&#]+)/.exec(hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function transportError(message: string): SerializedError {
  return { code: 'INTERNAL', message, location: {} };
}

/**
 * ApiClient over the workbench web server: POST /api/<method> with a bearer token,
 * events over SSE at /api/events?token=… (EventSource cannot send headers).
 */
export function createHttpClient(options: HttpClientOptions = {}): ApiClient {
  const g = globalThis as unknown as {
    location?: { hash: string };
    fetch?: FetchLike;
    EventSource?: new (url: string) => EventSourceLike;
  };
  const baseUrl = (options.baseUrl ?? '').replace(/\/$/, '');
  const token = options.token ?? tokenFromHash(g.location?.hash ?? '') ?? '';
  const fetchImpl = options.fetch ?? g.fetch?.bind(globalThis);
  const openEvents: EventSourceFactory | undefined =
    options.eventSource ?? (g.EventSource ? (url) => new g.EventSource!(url) : undefined);

  async function call(method: ApiMethod, input: unknown): Promise<unknown> {
    if (!fetchImpl) throw new ApiCallError(method, transportError('fetch is not available in this environment'));
    let status: number;
    let text: string;
    try {
      const response = await fetchImpl(`${baseUrl}/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(input ?? {}),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw new ApiCallError(method, transportError(`workbench server unreachable: ${error instanceof Error ? error.message : String(error)}`));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ApiCallError(method, transportError(`HTTP ${status}: ${text.slice(0, 200)}`));
    }
    const envelope = ApiEnvelopeSchema.safeParse(parsed);
    if (!envelope.success) throw new ApiCallError(method, transportError(`HTTP ${status}: malformed response`));
    if (!envelope.data.ok) throw new ApiCallError(method, envelope.data.error);
    return envelope.data.result;
  }

  const listeners = new Set<(event: ApiEvent) => void>();
  let source: EventSourceLike | null = null;

  function ensureEvents(): void {
    if (source || !openEvents) return;
    source = openEvents(`${baseUrl}/api/events?token=${encodeURIComponent(token)}`);
    source.onmessage = (message) => {
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      const event = ApiEventSchema.safeParse(data);
      if (!event.success) return;
      for (const listener of listeners) listener(event.data);
    };
  }

  const client: Record<string, unknown> = {
    onEvent(listener: (event: ApiEvent) => void) {
      listeners.add(listener);
      ensureEvents();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && source) {
          source.close();
          source = null;
        }
      };
    },
  };
  for (const method of API_METHODS) client[method] = (input: unknown) => call(method, input);
  return client as ApiClient;
}
