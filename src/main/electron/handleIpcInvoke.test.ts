import { describe, expect, it } from 'vitest';
import { IPC_INVOKE_CHANNEL } from '../../shared/api/transport';
import { API_METHODS } from '../../shared/api/contract';
import { API_METHOD_NAMES } from '../../shared/api/methodNames';
import type { ApiHandlers } from '../api/createWorkbenchApi';
import { APP_ORIGIN } from '../security/windowPolicy';
import { handleIpcInvoke } from './handleIpcInvoke';

const calls: unknown[] = [];
const handlers = new Proxy({} as ApiHandlers, {
  get: (_target, method) => async (input: unknown) => {
    calls.push({ method, input });
    if (method === 'listRuns') return { runs: [] };
    if (method === 'cancelRun') return { cancelled: true };
    throw new Error(`no fixture for ${String(method)}`);
  },
});

const call = (payload: unknown, senderUrl: string | null = 'app://workbench/index.html', channel = IPC_INVOKE_CHANNEL) =>
  handleIpcInvoke(handlers, APP_ORIGIN, { channel, senderUrl, payload });

describe('handleIpcInvoke', () => {
  it('dispatches a valid call from the app frame', async () => {
    expect(await call({ method: 'listRuns', input: {} })).toEqual({ ok: true, result: { runs: [] } });
    expect(await call({ method: 'cancelRun', input: { jobId: 'j1' } })).toEqual({ ok: true, result: { cancelled: true } });
  });

  it.each([
    ['https://evil.example/'],
    ['file:///tmp/index.html'],
    ['app://other/index.html'],
    ['data:text/html,x'],
    ['devtools://devtools/'],
    [null],
    [''],
  ])('refuses a sender frame at %s', async (senderUrl) => {
    const before = calls.length;
    expect(await call({ method: 'listRuns', input: {} }, senderUrl)).toMatchObject({ ok: false, error: { code: 'API_FORBIDDEN' } });
    expect(calls.length).toBe(before);
  });

  it('refuses other channels', async () => {
    expect(await call({ method: 'listRuns', input: {} }, 'app://workbench/', 'stageb:shell')).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND' } });
  });

  it.each([[null], ['listRuns'], [{ method: 'listRuns', input: {}, extra: 1 }], [{ input: {} }], [{ method: 42 }]])('refuses malformed payload %j', async (payload) => {
    expect(await call(payload)).toMatchObject({ ok: false, error: { code: 'API_INVALID_REQUEST' } });
  });

  it('refuses unknown methods and invalid inputs before any handler runs', async () => {
    const before = calls.length;
    expect(await call({ method: 'exec', input: {} })).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND' } });
    expect(await call({ method: 'hasOwnProperty', input: {} })).toMatchObject({ ok: false, error: { code: 'API_NOT_FOUND' } });
    expect(await call({ method: 'cancelRun', input: { jobId: 7 } })).toMatchObject({ ok: false, error: { code: 'API_INVALID_REQUEST', location: { field: 'jobId' } } });
    expect(await call({ method: 'readSnapshot', input: { runId: 'r', mission: 'm', name: '../../x' } })).toMatchObject({ ok: false, error: { code: 'API_INVALID_REQUEST' } });
    expect(calls.length).toBe(before);
  });

  it('turns a handler failure into a serialized error', async () => {
    expect(await call({ method: 'charts', input: { runId: 'r', mission: 'm' } })).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: 'no fixture for charts' } });
  });

  it('the preload method list is the contract table', () => {
    expect([...API_METHOD_NAMES].sort()).toEqual([...API_METHODS].sort());
  });
});
