import { API_METHODS, type ApiEnvelope } from './contract';
import { ApiCallError, type ApiClient, type PreloadBridge } from './transport';

/** The ApiClient over the Electron preload bridge: envelopes become results or ApiCallErrors. */
export function createBridgeClient(bridge: PreloadBridge): ApiClient {
  const client: Record<string, unknown> = { onEvent: (listener: Parameters<PreloadBridge['onEvent']>[0]) => bridge.onEvent(listener) };
  for (const method of API_METHODS) {
    client[method] = async (input: unknown) => {
      const call = bridge[method] as (input: unknown) => Promise<ApiEnvelope>;
      const envelope = await call(input ?? {});
      if (!envelope.ok) throw new ApiCallError(method, envelope.error);
      return envelope.result;
    };
  }
  return client as ApiClient;
}
