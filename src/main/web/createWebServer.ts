import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { StageBError, type ErrorCode, type SerializedError } from '../../shared/errors';
import type { ApiEnvelope } from '../../shared/api/contract';
import { bearerToken, checkToken } from '../security/checkToken';
import { buildCsp, securityHeaders } from '../security/contentSecurityPolicy';
import { isAllowedHost } from '../security/hostPolicy';
import { resolveInsideRoots } from '../security/resolveInsideRoots';
import { dispatchApiCall } from '../api/dispatchApiCall';
import type { WorkbenchApi } from '../api/createWorkbenchApi';
import { isApiMethod } from '../../shared/api/contract';
import { TOKEN_REFUSED } from '../../shared/api/httpClient';
import { CompressedFileCache, cacheControlFor, pickEncoding, type StaticBody } from './staticAssets';

/** Says where the token comes from: the URL the workbench printed when it started. */
export const TOKEN_HELP = `${TOKEN_REFUSED}: open the URL that \`npm run workbench:web\` printed when it started (the line "Stage-B workbench: http://127.0.0.1:<port>/#token=…"); a restarted server has a new token`;

/**
 * The request log names API calls by method only; any other /api path and any
 * path with a query or an unusual segment is elided, so a token a client put in a
 * URL never reaches a log.
 */
export function loggablePath(pathname: string): string {
  if (pathname.startsWith('/api/')) {
    const method = pathname.slice('/api/'.length);
    return method === 'events' || isApiMethod(method) ? pathname : '/api/<unknown>';
  }
  return /^[\w./-]{0,120}$/.test(pathname) && !/[0-9a-f]{16,}/i.test(pathname) ? pathname : '<path elided>';
}

export type WebServerOptions = {
  api: Pick<WorkbenchApi, 'handlers' | 'events'>;
  token: string;
  /** Built renderer (index.html + assets); null serves the API only. */
  staticDir: string | null;
  /** Extra Host names accepted besides loopback (only when bound to a non-loopback address on purpose). */
  extraHosts?: string[];
  maxBodyBytes?: number;
  heartbeatMs?: number;
  /** One line per request: method, path (never the query string), status. Never sees the token. */
  log?: (line: string) => void;
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  API_INVALID_REQUEST: 400,
  API_FORBIDDEN: 403,
  API_NOT_FOUND: 404,
  INTERNAL: 500,
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: SerializedError,
  ) {
    super(error.message);
  }
}

function httpError(status: number, code: ErrorCode, message: string): HttpError {
  return new HttpError(status, new StageBError(code, message).toJSON());
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > limit) throw httpError(413, 'API_INVALID_REQUEST', `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw httpError(413, 'API_INVALID_REQUEST', `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The workbench over loopback HTTP: POST /api/<method> (JSON, bearer token),
 * GET /api/events (SSE, ?token=), and the built renderer. Every request must
 * carry a loopback Host at our port (DNS-rebinding defence).
 */
export function createWebServer(options: WebServerOptions): Server {
  const maxBody = options.maxBodyBytes ?? 2 * 1024 * 1024;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const log = options.log ?? (() => undefined);
  // API responses and errors keep securityHeaders' no-store; static files get their own cache policy.
  const headers = securityHeaders(buildCsp());
  const files = new CompressedFileCache();
  let port = 0;

  const send = (response: ServerResponse, status: number, body: string | Buffer, contentType: string, extra: Record<string, string> = {}) => {
    response.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...extra });
    response.end(body);
  };
  const sendEnvelope = (response: ServerResponse, status: number, envelope: ApiEnvelope) => send(response, status, JSON.stringify(envelope), 'application/json; charset=utf-8');

  async function handleApi(request: IncomingMessage, response: ServerResponse, pathname: string, url: URL): Promise<number> {
    if (pathname === '/api/events') {
      if (request.method !== 'GET') throw httpError(405, 'API_INVALID_REQUEST', 'use GET for /api/events');
      if (!checkToken(url.searchParams.get('token'), options.token)) throw httpError(401, 'API_FORBIDDEN', TOKEN_HELP);
      response.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      response.write(': connected\n\n');
      const unsubscribe = options.api.events.subscribe((event) => response.write(`data: ${JSON.stringify(event)}\n\n`));
      const heartbeat = setInterval(() => response.write(': ping\n\n'), heartbeatMs);
      heartbeat.unref();
      request.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
      return 200;
    }
    if (!checkToken(bearerToken(request.headers.authorization), options.token)) throw httpError(401, 'API_FORBIDDEN', TOKEN_HELP);
    if (request.method !== 'POST') throw httpError(405, 'API_INVALID_REQUEST', 'API methods are called with POST');
    const method = pathname.slice('/api/'.length);
    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(contentType)) throw httpError(415, 'API_INVALID_REQUEST', 'send the request body as application/json');
    const text = await readBody(request, maxBody);
    let input: unknown;
    try {
      input = text.trim() === '' ? {} : JSON.parse(text);
    } catch (error) {
      throw httpError(400, 'API_INVALID_REQUEST', `request body is not JSON: ${(error as Error).message}`);
    }
    const envelope = await dispatchApiCall(options.api.handlers, method, input);
    const status = envelope.ok ? 200 : (STATUS_BY_CODE[envelope.error.code] ?? 422);
    sendEnvelope(response, status, envelope);
    return status;
  }

  async function handleStatic(request: IncomingMessage, response: ServerResponse, pathname: string): Promise<number> {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw httpError(405, 'API_INVALID_REQUEST', 'only GET');
    if (!options.staticDir) throw httpError(404, 'API_NOT_FOUND', 'no renderer build is served (run electron-vite build)');
    const relative = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
    let file: string;
    try {
      file = await resolveInsideRoots([options.staticDir], relative);
    } catch {
      throw httpError(404, 'API_NOT_FOUND', 'not found');
    }
    let info;
    try {
      info = await stat(file);
    } catch {
      info = null;
    }
    if (!info?.isFile()) {
      // Client-side routes fall back to the app shell; missing assets are 404.
      if (path.extname(relative)) throw httpError(404, 'API_NOT_FOUND', 'not found');
      file = path.join(await resolveInsideRoots([options.staticDir], '.'), 'index.html');
    }
    let served: StaticBody;
    try {
      served = await files.read(file, pickEncoding(request.headers['accept-encoding']));
    } catch {
      throw httpError(404, 'API_NOT_FOUND', 'not found');
    }
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    const servedRelative = info?.isFile() ? relative : 'index.html';
    const extra: Record<string, string> = { 'cache-control': cacheControlFor(servedRelative), vary: 'accept-encoding' };
    if (served.encoding) extra['content-encoding'] = served.encoding;
    response.writeHead(200, { ...headers, 'content-type': type, 'content-length': String(served.body.length), ...extra });
    response.end(request.method === 'HEAD' ? undefined : served.body);
    return 200;
  }

  const server = createServer((request, response) => {
    let pathname = '/';
    void (async () => {
      let status = 500;
      try {
        if (!isAllowedHost(request.headers.host, port, options.extraHosts)) throw httpError(403, 'API_FORBIDDEN', 'Host header not allowed');
        const url = new URL(request.url ?? '/', 'http://placeholder');
        pathname = url.pathname;
        status = pathname === '/api' || pathname.startsWith('/api/') ? await handleApi(request, response, pathname, url) : await handleStatic(request, response, pathname);
      } catch (error) {
        if (error instanceof HttpError) {
          status = error.status;
          if (!response.headersSent) sendEnvelope(response, status, { ok: false, error: error.error });
        } else {
          status = 500;
          if (!response.headersSent) sendEnvelope(response, 500, { ok: false, error: new StageBError('INTERNAL', (error as Error).message).toJSON() });
        }
        // Drain any unread body so the client sees the status rather than a reset.
        request.resume();
      } finally {
        log(`${request.method} ${loggablePath(pathname)} ${status}`);
      }
    })();
  });
  server.on('listening', () => {
    const address = server.address();
    if (address && typeof address === 'object') port = address.port;
  });
  return server;
}
