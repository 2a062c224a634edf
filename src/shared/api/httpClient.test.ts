import { describe, expect, it } from 'vitest';
import { createBridgeClient } from './createBridgeClient';
import { createHttpClient, tokenFromHash } from './httpClient';
import { ApiCallError, type PreloadBridge } from './transport';
import { API_METHODS, type ApiEvent } from './contract';

describe('tokenFromHash', () => {
  it.each([
    ['#token=abc', 'abc'],
    ['#/runs?token=a%2Bb&x=1', 'a+b'],
    ['#x=1&token=zz', 'zz'],
    ['#tokens=abc', null],
    ['', null],
  ])('%s → %s', (hash, token) => {
    expect(tokenFromHash(hash)).toBe(token);
  });
});

describe('createHttpClient', () => {
  const requests: { url: string; headers: Record<string, string>; body: string }[] = [];
  const reply = (status: number, body: unknown) => async (url: string, init: { headers: Record<string, string>; body: string }) => {
    requests.push({ url, headers: init.headers, body: init.body });
    return { status, text: async () => (typeof body === 'string' ? body : JSON.stringify(body)) };
  };

  it('posts JSON with the bearer token and resolves with the result', async () => {
    const client = createHttpClient({ baseUrl: 'http://127.0.0.1:4100/', token: 'T', fetch: reply(200, { ok: true, result: { runs: [] } }) });
    expect(await client.listRuns({})).toEqual({ runs: [] });
    expect(requests.at(-1)).toEqual({ url: 'http://127.0.0.1:4100/api/listRuns', headers: { 'content-type': 'application/json', authorization: 'Bearer T' }, body: '{}' });
  });

  it('rejects with ApiCallError carrying the server error verbatim', async () => {
    const error = { code: 'GUIDANCE_INVALID', message: 'bad key', location: { file: 'guidance.json', field: 'G1' } };
    const client = createHttpClient({ token: 'T', fetch: reply(422, { ok: false, error }) });
    const failure = await client.guidanceRead({ runId: 'r', mission: 'm' }).catch((e) => e);
    expect(failure).toBeInstanceOf(ApiCallError);
    expect(failure.error).toEqual(error);
    expect(failure.format()).toBe('GUIDANCE_INVALID guidance.json field G1: bad key');
  });

  it('turns a non-JSON reply or a network failure into an ApiCallError', async () => {
    const html = createHttpClient({ token: 'T', fetch: reply(502, '<html>bad gateway</html>') });
    await expect(html.listRuns({})).rejects.toMatchObject({ error: { code: 'INTERNAL', message: expect.stringContaining('HTTP 502') } });
    const down = createHttpClient({ token: 'T', fetch: async () => Promise.reject(new Error('ECONNREFUSED')) });
    await expect(down.listRuns({})).rejects.toMatchObject({ error: { message: expect.stringContaining('ECONNREFUSED') } });
  });

  it('has one function per contract method', () => {
    const client = createHttpClient({ token: 'T', fetch: reply(200, {}) }) as unknown as Record<string, unknown>;
    for (const method of API_METHODS) expect(typeof client[method]).toBe('function');
  });

  it('subscribes over SSE with the token in the query, drops malformed events, closes with the last listener', async () => {
    let opened: string | null = null;
    let closed = false;
    const source = { onmessage: null as ((message: { data: string }) => void) | null, close: () => (closed = true) };
    const client = createHttpClient({ token: 'a b', fetch: reply(200, {}), eventSource: (url) => ((opened = url), source) });
    const seen: ApiEvent[] = [];
    const off = client.onEvent((event) => seen.push(event));
    expect(opened).toBe('/api/events?token=a%20b');
    source.onmessage!({ data: '{"type":"job_log","jobId":"j","line":"x"}' });
    source.onmessage!({ data: 'not json' });
    source.onmessage!({ data: '{"type":"unknown"}' });
    expect(seen).toEqual([{ type: 'job_log', jobId: 'j', line: 'x' }]);
    off();
    expect(closed).toBe(true);
  });
});

describe('createBridgeClient', () => {
  it('unwraps envelopes from the preload bridge', async () => {
    const bridge = {
      onEvent: () => () => undefined,
      listRuns: async () => ({ ok: true, result: { runs: [] } }),
      cancelRun: async () => ({ ok: false, error: { code: 'API_NOT_FOUND', message: 'no job j', location: { field: 'jobId' } } }),
    } as unknown as PreloadBridge;
    const client = createBridgeClient(bridge);
    expect(await client.listRuns({})).toEqual({ runs: [] });
    await expect(client.cancelRun({ jobId: 'j' })).rejects.toMatchObject({ error: { code: 'API_NOT_FOUND' } });
  });
});
