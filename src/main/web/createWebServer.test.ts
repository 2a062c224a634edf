import { request as httpRequest } from 'node:http';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultWorkbenchApi } from '../api/createDefaultWorkbenchApi';
import type { WorkbenchApi } from '../api/createWorkbenchApi';
import { writeFixtureRun } from '../api/fixtureRun';
import { createWebServer } from './createWebServer';
import { startWorkbenchWeb } from './webCli';

const MISSION = 'BBU接地线检查';
const TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuv';
const HASHED_JS = Array.from({ length: 400 }, (_, i) => `export const v${i} = ${i};`).join('\n');

let base: string;
let server: Server;
let port: number;
let api: WorkbenchApi;
const logLines: string[] = [];

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: string; raw: Buffer };

function send(options: { method?: string; path: string; host?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

function post(method: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, extra: { host?: string } = {}) {
  return send({ method: 'POST', path: `/api/${method}`, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), ...extra });
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'workbench-web-')));
  await writeFixtureRun(path.join(base, 'runs'), { runName: 'run-a', mission: MISSION, groups: 10, candidates: 2, epochs: 1 });
  await mkdir(path.join(base, 'static', 'assets'), { recursive: true });
  await writeFile(path.join(base, 'static', 'index.html'), '<!doctype html><div id="root"></div>');
  await writeFile(path.join(base, 'static', 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(base, 'static', 'assets', 'index-Ab3_x-9Z.js'), HASHED_JS);
  await writeFile(path.join(base, 'secret.txt'), 'TOP-SECRET');
  api = createDefaultWorkbenchApi({ runsRoot: path.join(base, 'runs') });
  server = createWebServer({ api, token: TOKEN, staticDir: path.join(base, 'static'), log: (line) => logLines.push(line), maxBodyBytes: 64 * 1024 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(base, { recursive: true, force: true });
});

describe('authentication and host checks', () => {
  it('serves an API call with the right token', async () => {
    const reply = await post('listRuns', {});
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: true, result: { runs: [{ runId: 'run-a', mission: MISSION }] } });
  });

  it.each([
    ['no header', {}],
    ['wrong token', { authorization: 'Bearer nope' }],
    ['token as Basic', { authorization: `Basic ${TOKEN}` }],
    ['token with a suffix', { authorization: `Bearer ${TOKEN}x` }],
  ])('401 with %s', async (_name, headers) => {
    const reply = await post('listRuns', {}, headers as Record<string, string>);
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: false, error: { code: 'API_FORBIDDEN' } });
    // The refusal says where a token comes from, not just that it is missing.
    expect(JSON.parse(reply.body).error.message).toMatch(/^missing or wrong token: open the URL that `npm run workbench:web` printed/);
  });

  it('serves the app shell for a deep link (route in the query), and still refuses its API calls without the token', async () => {
    const shell = await send({ path: `/?screen=group&run=run-a&mission=${encodeURIComponent(MISSION)}&group=G1` });
    expect(shell.status).toBe(200);
    expect(shell.body).toContain('<div id="root">');
    expect((await post('listRuns', {}, {})).status).toBe(401);
    const events = await send({ path: '/api/events' });
    expect(events.status).toBe(401);
    expect(JSON.parse(events.body).error.message).toContain('#token=');
  });

  it('401 for a POST that carries the token only in the query string', async () => {
    const reply = await send({ method: 'POST', path: `/api/listRuns?token=${TOKEN}`, headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(reply.status).toBe(401);
  });

  it.each([['evil.com'], [`evil.com:${0}`], ['127.0.0.1'], ['localhost.evil.com'], ['127.0.0.1:1']])('403 for Host %s even with the token', async (host) => {
    const reply = await post('listRuns', {}, { authorization: `Bearer ${TOKEN}` }, { host: host.replace(':0', `:${port}`) });
    expect(reply.status).toBe(403);
  });

  it('accepts localhost:PORT as Host', async () => {
    expect((await post('listRuns', {}, undefined, { host: `localhost:${port}` })).status).toBe(200);
  });

  it('403 for the static app under a foreign Host too', async () => {
    expect((await send({ path: '/', host: `evil.com:${port}` })).status).toBe(403);
  });
});

describe('request validation', () => {
  it('413 for a body over the limit', async () => {
    const reply = await post('validateConfig', { text: 'x'.repeat(70 * 1024) });
    expect(reply.status).toBe(413);
  });

  it('400 for a body that is not JSON', async () => {
    const reply = await post('listRuns', '{nope');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error.code).toBe('API_INVALID_REQUEST');
  });

  it('400 with the zod issue for an invalid payload', async () => {
    const reply = await post('queryRows', { runId: 'run-a', mission: MISSION, kind: 'everything' });
    expect(reply.status).toBe(400);
    const { error } = JSON.parse(reply.body);
    expect(error.code).toBe('API_INVALID_REQUEST');
    expect(error.location.field).toBe('kind');
    expect(error.message).toMatch(/kind/);
  });

  it('415 for a non-JSON content type', async () => {
    const reply = await send({ method: 'POST', path: '/api/listRuns', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: '{}' });
    expect(reply.status).toBe(415);
  });

  it('404 for an unknown method', async () => {
    for (const method of ['dropTables', 'constructor', '__proto__', 'listRuns/../x']) {
      const reply = await post(method, {});
      expect(reply.status, method).toBe(404);
    }
  });

  it('405 for GET on an API method', async () => {
    expect((await send({ path: '/api/listRuns', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
  });

  it.each([
    [{ runId: '../..', mission: MISSION }, 400],
    [{ runId: 'run-a', mission: '../../..' }, 400],
    [{ runId: 'run-a', mission: 'x/y' }, 400],
    [{ runId: '%2e%2e', mission: '%2e%2e' }, 403],
  ])('path traversal %j is refused (%i)', async (ref, status) => {
    const reply = await post('queryRows', { ...ref, kind: 'trajectories' });
    expect(reply.status).toBe(status);
  });

  it.each([['..'], ['%2e%2e'], ['..%2f..%2fsecret.txt']])('snapshot name %j is refused', async (name) => {
    const reply = await post('readSnapshot', { runId: 'run-a', mission: MISSION, name });
    expect([400, 403, 404]).toContain(reply.status);
    expect(reply.body).not.toContain('TOP-SECRET');
  });
});

describe('static files', () => {
  it('serves index.html with a strict CSP and security headers', async () => {
    const reply = await send({ path: '/' });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('id="root"');
    expect(reply.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['x-frame-options']).toBe('DENY');
  });

  it('serves assets and falls back to the app shell for client routes only', async () => {
    expect((await send({ path: '/assets/app.js' })).headers['content-type']).toMatch(/javascript/);
    expect((await send({ path: '/runs/run-a' })).body).toContain('id="root"');
    expect((await send({ path: '/assets/missing.js' })).status).toBe(404);
  });

  it('caches hashed assets for a year as immutable, and never the index, its fallback or the API', async () => {
    const asset = await send({ path: '/assets/index-Ab3_x-9Z.js' });
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-security-policy']).toMatch(/script-src 'self'/);
    for (const requestPath of ['/', '/index.html', '/runs/run-a']) expect((await send({ path: requestPath })).headers['cache-control']).toBe('no-store');
    expect((await post('listRuns', {})).headers['cache-control']).toBe('no-store');
    expect((await send({ path: '/assets/missing-Ab3_x-9Z.js' })).headers['cache-control']).toBe('no-store');
    // An unhashed asset name may change content: cached but revalidated.
    expect((await send({ path: '/assets/app.js' })).headers['cache-control']).toBe('no-cache');
  });

  it.each([
    ['br', 'gzip, deflate, br', (b: Buffer) => brotliDecompressSync(b)],
    ['gzip', 'gzip, deflate', (b: Buffer) => gunzipSync(b)],
    ['gzip', 'br;q=0, gzip', (b: Buffer) => gunzipSync(b)],
  ])('sends %s for Accept-Encoding "%s", smaller and decoding to the file', async (encoding, accept, decode) => {
    const reply = await send({ path: '/assets/index-Ab3_x-9Z.js', headers: { 'accept-encoding': accept } });
    expect(reply.headers['content-encoding']).toBe(encoding);
    expect(reply.headers.vary).toMatch(/accept-encoding/i);
    expect(Number(reply.headers['content-length'])).toBe(reply.raw.length);
    expect(reply.raw.length).toBeLessThan(Buffer.byteLength(HASHED_JS) / 2);
    expect(decode(reply.raw).toString('utf8')).toBe(HASHED_JS);
  });

  it('sends the file as is without an Accept-Encoding, and answers HEAD with the same headers and no body', async () => {
    const plain = await send({ path: '/assets/index-Ab3_x-9Z.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(HASHED_JS);
    const head = await send({ method: 'HEAD', path: '/assets/index-Ab3_x-9Z.js', headers: { 'accept-encoding': 'br' } });
    expect(head.headers['content-encoding']).toBe('br');
    expect(head.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(head.raw.length).toBe(0);
  });

  it.each([['/../secret.txt'], ['/%2e%2e/secret.txt'], ['/..%2fsecret.txt'], ['/assets/..%2f..%2fsecret.txt'], ['/%2e%2e%2fsecret.txt'], ['/assets/%00.js']])('never serves %s', async (requestPath) => {
    const reply = await send({ path: requestPath });
    expect(reply.body).not.toContain('TOP-SECRET');
    expect([200, 404]).toContain(reply.status);
  });
});

describe('events (SSE)', () => {
  it('401 without the token', async () => {
    expect((await send({ path: '/api/events' })).status).toBe(401);
    expect((await send({ path: '/api/events?token=wrong' })).status).toBe(401);
  });

  it('streams pushed events to a client with the token', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: `/api/events?token=${TOKEN}`, headers: { host: `127.0.0.1:${port}` } }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        let text = '';
        res.on('data', (chunk) => {
          text += chunk.toString();
          if (text.includes('connected')) api.events.emit({ type: 'job_log', jobId: 'j1', line: 'hello' });
          if (text.includes('hello')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toContain('data: {"type":"job_log","jobId":"j1","line":"hello"}');
  });
});

describe('logging', () => {
  it('never writes the token to the request log', async () => {
    await send({ path: `/api/events?token=${TOKEN}x` });
    await post('listRuns', {});
    expect(logLines.length).toBeGreaterThan(5);
    for (const line of logLines) expect(line).not.toContain(TOKEN);
    expect(logLines.some((line) => line.startsWith('POST /api/listRuns 200'))).toBe(true);
  });

  it('the launcher prints the token once, in the URL line on stdout, and nowhere else', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const sink = (into: string[]) => new Writable({ write: (chunk, _enc, done) => (into.push(chunk.toString()), done()) });
    const started = await startWorkbenchWeb(
      { runs: path.join(base, 'runs'), configs: null, port: 0, host: '127.0.0.1', staticDir: path.join(base, 'static'), quiet: false },
      { stdout: sink(out), stderr: sink(err) },
    );
    try {
      const reply = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: started.port, method: 'POST', path: '/api/listRuns', headers: { host: `127.0.0.1:${started.port}`, authorization: `Bearer ${started.token}`, 'content-type': 'application/json' } },
          (res) => (res.resume(), resolve(res.statusCode ?? 0)),
        );
        req.on('error', reject);
        req.end('{}');
      });
      expect(reply).toBe(200);
    } finally {
      await started.stop();
    }
    const stdout = out.join('');
    expect(stdout).toBe(`Stage-B workbench: http://127.0.0.1:${started.port}/#token=${started.token}\n`);
    expect(err.join('')).not.toContain(started.token);
    expect(err.join('')).toContain('POST /api/listRuns 200');
  });
});
