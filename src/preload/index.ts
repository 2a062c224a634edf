import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ApiEnvelope, ApiEvent } from '../shared/api/contract';
import { API_METHOD_NAMES } from '../shared/api/methodNames';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, PRELOAD_GLOBAL } from '../shared/api/transport';

// One function per API method, generated from the contract's method list, plus an
// event subscription. Nothing else of Electron or Node reaches the page.
const bridge: Record<string, unknown> = {};
for (const method of API_METHOD_NAMES) {
  bridge[method] = (input: unknown): Promise<ApiEnvelope> => ipcRenderer.invoke(IPC_INVOKE_CHANNEL, { method, input: input ?? {} });
}
bridge.onEvent = (listener: (event: ApiEvent) => void): (() => void) => {
  const forward = (_event: IpcRendererEvent, payload: ApiEvent) => listener(payload);
  ipcRenderer.on(IPC_EVENT_CHANNEL, forward);
  return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, forward);
};

contextBridge.exposeInMainWorld(PRELOAD_GLOBAL, bridge);
