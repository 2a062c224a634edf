import { API_METHODS, createBridgeClient, createHttpClient, isApiCallError, PRELOAD_GLOBAL, TOKEN_REFUSED, type ApiClient, type PreloadBridge } from '../../shared/api';
import { takeApiToken, tokenStore } from './apiToken';

let client: ApiClient | null = null;

/** Inside Electron the preload bridge carries every call; no token is involved. */
export function hasPreloadBridge(): boolean {
  return Boolean((globalThis as Record<string, unknown>)[PRELOAD_GLOBAL]);
}

/** Marks the page's token as refused when the server says so, so the app can say where a valid one comes from. */
function watchForRefusedToken(inner: ApiClient): ApiClient {
  const wrapped: Record<string, unknown> = { onEvent: inner.onEvent.bind(inner) };
  for (const method of API_METHODS) {
    const call = inner[method] as (input: unknown) => Promise<unknown>;
    wrapped[method] = async (input: unknown) => {
      try {
        return await call(input);
      } catch (error) {
        if (isApiCallError(error) && error.error.code === 'API_FORBIDDEN' && error.error.message.startsWith(TOKEN_REFUSED)) tokenStore.setState({ rejected: true });
        throw error;
      }
    };
  }
  return wrapped as ApiClient;
}

/** The one ApiClient of this window: the Electron bridge, or HTTP with the per-launch token (apiToken.ts). */
export function getApiClient(): ApiClient {
  if (client) return client;
  const bridge = (globalThis as Record<string, unknown>)[PRELOAD_GLOBAL] as PreloadBridge | undefined;
  client = bridge ? createBridgeClient(bridge) : watchForRefusedToken(createHttpClient({ token: takeApiToken() ?? '' }));
  return client;
}

/** Tests and stories inject their own client. */
export function setApiClient(next: ApiClient): void {
  client = next;
}
