import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 (random port) that speaks just enough of the
 * OpenAI chat API for backend tests. Responses are scripted per request; every
 * request is recorded, and the server measures how many it had in flight at once.
 */
export type RecordedRequest = {
  method: string;
  /** Path without the query string, e.g. /v1/chat/completions. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the raw text when it is not JSON; null when empty. */
  body: any;
};

export type ScriptedResponse = {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as-is; anything else as JSON. */
  body?: unknown;
  /** Wait this long before answering (to make requests overlap). */
  delayMs?: number;
  /** Never answer; the client has to time out or abort. */
  hang?: boolean;
};

export type Responder = (request: RecordedRequest, index: number) => ScriptedResponse | Promise<ScriptedResponse>;

export type MockOpenAiServerOptions = {
  /** owned_by reported by GET /v1/models; null answers 404 (server kind unknown). */
  ownedBy?: string | null;
  /** Default answer for /v1/chat/completions once the script queue is empty. */
  chat?: Responder;
  /** Extra routes by path (e.g. /tokenize); they override the defaults. */
  routes?: Record<string, Responder>;
};

export type MockOpenAiServer = {
  /** http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  requests: RecordedRequest[];
  chatRequests(): RecordedRequest[];
  /** Queue responses for the next /v1/chat/completions requests, in order. */
  script(...responses: ScriptedResponse[]): void;
  maxConcurrent(): number;
  close(): Promise<void>;
};

/** A well-formed chat completion with one choice per text. */
export function chatCompletionBody(
  texts: string[],
  options: { promptTokens?: number; completionTokens?: number; cachedTokens?: number; finishReason?: string | null } = {},
): Record<string, unknown> {
  const completionTokens = options.completionTokens ?? texts.reduce((sum, t) => sum + Math.max(1, t.length), 0);
  return {
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    model: 'mock-model',
    choices: texts.map((text, index) => ({
      index,
      message: { role: 'assistant', content: text },
      finish_reason: options.finishReason === undefined ? 'stop' : options.finishReason,
    })),
    usage: {
      prompt_tokens: options.promptTokens ?? 100,
      completion_tokens: completionTokens,
      total_tokens: (options.promptTokens ?? 100) + completionTokens,
      ...(options.cachedTokens !== undefined ? { prompt_tokens_details: { cached_tokens: options.cachedTokens } } : {}),
    },
  };
}

/** Answers n choices whose text names the seed and the choice index, so tests can map choices to candidates. */
export const echoSeedResponder: Responder = (request) => {
  const n = typeof request.body?.n === 'number' ? request.body.n : 1;
  const seed = request.body?.seed;
  return { body: chatCompletionBody(Array.from({ length: n }, (_, i) => `seed=${seed} choice=${i}`)) };
};

export async function startMockOpenAiServer(options: MockOpenAiServerOptions = {}): Promise<MockOpenAiServer> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedResponse[] = [];
  let chatIndex = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const pendingTimers = new Set<NodeJS.Timeout>();

  const routes: Record<string, Responder> = {
    '/v1/models': () =>
      options.ownedBy == null
        ? { status: 404, body: { error: 'not found' } }
        : { body: { object: 'list', data: [{ id: 'mock-model', object: 'model', owned_by: options.ownedBy }] } },
    '/v1/chat/completions': (request, index) => queue.shift() ?? (options.chat ?? echoSeedResponder)(request, index),
    ...options.routes,
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let counted = true;
    const done = () => {
      if (counted) {
        counted = false;
        inFlight--;
      }
    };
    res.on('close', done);

    // Recorded on arrival (body filled in later), so a client that gives up early still shows up.
    const path = (req.url ?? '/').split('?')[0];
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: { ...req.headers }, body: null };
    requests.push(recorded);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (raw !== '') {
        try {
          recorded.body = JSON.parse(raw);
        } catch {
          recorded.body = raw;
        }
      }
      const route = routes[path];
      const scripted: ScriptedResponse = route
        ? await route(recorded, path === '/v1/chat/completions' ? chatIndex++ : 0)
        : { status: 404, body: { error: `no route ${path}` } };
      if (scripted.hang) return;
      const send = () => {
        if (res.destroyed) return;
        const payload = typeof scripted.body === 'string' ? scripted.body : JSON.stringify(scripted.body ?? {});
        res.writeHead(scripted.status ?? 200, {
          'content-type': typeof scripted.body === 'string' ? 'text/html' : 'application/json',
          ...scripted.headers,
        });
        res.end(payload);
      };
      if (scripted.delayMs) {
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          send();
        }, scripted.delayMs);
        pendingTimers.add(timer);
      } else send();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () => requests.filter((r) => r.path === '/v1/chat/completions'),
    script: (...responses) => queue.push(...responses),
    maxConcurrent: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        pendingTimers.forEach(clearTimeout);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
