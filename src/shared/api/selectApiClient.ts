import { createBridgeClient } from './createBridgeClient';
import { createHttpClient } from './httpClient';
import { PRELOAD_GLOBAL, type ApiClient, type PreloadBridge } from './transport';

/** The Electron preload bridge when the page runs inside the app, otherwise the loopback HTTP client. */
export function selectApiClient(): ApiClient {
  const bridge = (globalThis as Record<string, unknown>)[PRELOAD_GLOBAL] as PreloadBridge | undefined;
  return bridge ? createBridgeClient(bridge) : createHttpClient();
}
