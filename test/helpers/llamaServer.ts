import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A real llama.cpp server (and a load balancer in front of replicas) for tests and
 * benches, on 127.0.0.1 only. The binary comes from scripts/build-llama-server.sh,
 * which CI runs before the tests; CI exports STAGEB_LLAMA_SERVER.
 */

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where scripts/build-llama-server.sh caches the binary for the bundled llama.cpp (null if git or the bundle is missing). */
function cachedBuildPath(): string | null {
  const bundle = join(REPO_ROOT, 'node_modules/node-llama-cpp/llama/gitRelease.bundle');
  const heads = spawnSync('git', ['bundle', 'list-heads', bundle], { encoding: 'utf8' });
  if (heads.status !== 0) return null;
  const key = heads.stdout.trim().split(/\s+/)[0]?.slice(0, 12);
  if (!key) return null;
  const cacheRoot = process.env.STAGEB_LLAMA_SERVER_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'stageb', 'llama-server');
  return join(cacheRoot, key, 'llama-server');
}

/**
 * STAGEB_LLAMA_SERVER (or the older LLAMA_SERVER_BIN), then the build script's cache, then PATH.
 * A variable naming a missing binary is not silently replaced by another one.
 */
export function findLlamaServer(): string | null {
  const fromEnv = process.env.STAGEB_LLAMA_SERVER || process.env.LLAMA_SERVER_BIN;
  if (fromEnv) return isExecutable(fromEnv) ? fromEnv : null;
  const cached = cachedBuildPath();
  if (cached && isExecutable(cached)) return cached;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'llama-server'))) return join(dir, 'llama-server');
  }
  return null;
}

const truthy = (value: string | undefined) => value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';

/**
 * True where STAGEB_REQUIRE_LLAMA_SERVER is set: .ci/run sets it after it has built llama-server and installed
 * haproxy, and there the real-server tests must run, never skip. `CI` alone does not: the README's `npm ci` and
 * `npm test` install neither, and a clone tested with CI=true but without them skips these files with a message.
 */
export function llamaServerRequired(): boolean {
  return truthy(process.env.STAGEB_REQUIRE_LLAMA_SERVER);
}

/**
 * The binary, or null where tests may skip (with a message). On CI a missing
 * binary throws, so the test file fails instead of skipping.
 */
export function llamaServerForTests(what: string): string | null {
  const binary = findLlamaServer();
  if (binary) return binary;
  const how = 'run scripts/build-llama-server.sh and export STAGEB_LLAMA_SERVER=<the path it prints>';
  if (llamaServerRequired()) throw new Error(`${what}: no llama-server binary although STAGEB_REQUIRE_LLAMA_SERVER is set (${how}); .ci/run builds it before the tests`);
  console.info(`[skipped] ${what}: no llama-server binary (${how})`);
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export type ManagedProcess = {
  child: ChildProcess;
  port: number;
  /** The last 64 KiB of its stdout and stderr. */
  log(): string;
  /** How many output lines so far matched the named pattern (llama-server: `started`, `served`). */
  counted(name: string): number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL now (a crashed replica); resolves once it has exited. */
  kill(): Promise<void>;
};

/** Children still running when this process exits are killed with it (a failed test must not leave servers behind). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function manage(child: ChildProcess, port: number, patterns: Record<string, RegExp> = {}): ManagedProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  let partial = '';
  const counts = new Map<string, number>();
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-65_536);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const [name, pattern] of Object.entries(patterns)) {
      counts.set(name, (counts.get(name) ?? 0) + lines.filter((line) => pattern.test(line)).length);
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    port,
    log: () => output,
    counted: (name) => counts.get(name) ?? 0,
    async stop() {
      if (!alive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function waitUntil(ready: () => Promise<boolean>, proc: ManagedProcess, what: string, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${what} exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.log()}`);
    }
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} was not ready within ${limitMs} ms:\n${proc.log()}`);
}

export type LlamaServerOptions = {
  binary: string;
  model: string;
  /** Slots decoding at once (--parallel); the context is split over them. Default 1. */
  parallel?: number;
  /** Total context (-c), split over the slots. Default 2048 × parallel. */
  contextSize?: number;
  /** Threads (-t and -tb). Default 1. */
  threads?: number;
  /** More flags. */
  extraArgs?: string[];
};

export type LlamaServer = ManagedProcess & { baseUrl: string; rootUrl: string };

/**
 * Flags every test server gets, and why:
 * --metrics: /metrics counts the requests each replica served;
 * --no-webui: nothing to serve but the API;
 * -tb = -t: prompt and generation threads equal, so a replica's arithmetic does not depend on the phase split.
 */
export async function startLlamaServer(options: LlamaServerOptions): Promise<LlamaServer> {
  const port = await freePort();
  const parallel = options.parallel ?? 1;
  const threads = String(options.threads ?? 1);
  const args = [
    '-m', options.model,
    '--host', '127.0.0.1',
    '--port', String(port),
    '-c', String(options.contextSize ?? 2048 * parallel),
    '--parallel', String(parallel),
    '-t', threads,
    '-tb', threads,
    '--metrics',
    '--no-webui',
    ...(options.extraArgs ?? []),
  ];
  // A slot logs "processing task" when it takes a request and "stop processing" when it is done with it.
  const proc = manage(spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] }), port, {
    started: /\bslot +launch_slot_: .*processing task/,
    served: /\bslot +release: .*stop processing/,
  });
  const rootUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(async () => (await fetch(`${rootUrl}/health`)).ok, proc, 'llama-server', 120_000);
  } catch (error) {
    await proc.kill();
    throw error;
  }
  return { ...proc, rootUrl, baseUrl: `${rootUrl}/v1` };
}

/** Tokens a llama-server has generated, from its /metrics (needs --metrics): more than 0 means it served requests. */
export async function tokensPredicted(server: { rootUrl: string }): Promise<number> {
  const text = await (await fetch(`${server.rootUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => /^llamacpp:tokens_predicted_total\s/.test(l));
  if (!line) throw new Error(`no llamacpp:tokens_predicted_total in /metrics:\n${text.slice(0, 2000)}`);
  return Number(line.trim().split(/\s+/).at(-1));
}

export type Balancer = ManagedProcess & { baseUrl: string; rootUrl: string };

/**
 * HAProxy (Debian's haproxy package) on 127.0.0.1 in front of the replicas, round robin.
 * `retry-on all-retryable-errors` with `option redispatch` is deliberately absent:
 * retrying a failed request is the backend's job (model.max_retries), so the test
 * shows the client surviving a dead replica on its own. Health checks take a killed
 * replica out of rotation within a second.
 */
export async function startHaproxy(binary: string, replicas: Array<{ port: number }>): Promise<Balancer> {
  const port = await freePort();
  const config = [
    'global',
    '  maxconn 256',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 600s',
    '  timeout server 600s',
    'frontend stageb',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    '  option httpchk GET /health',
    ...replicas.map((r, i) => `  server replica${i} 127.0.0.1:${r.port} check inter 500 fall 1 rise 1`),
    '',
  ].join('\n');
  const configDir = await mkdtemp(join(tmpdir(), 'stageb-haproxy-'));
  const configPath = join(configDir, 'haproxy.cfg');
  await writeFile(configPath, config);
  // -db: stay in the foreground, log to stderr.
  const child = spawn(binary, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.once('exit', () => void rm(configDir, { recursive: true, force: true }));
  const proc = manage(child, port);
  const rootUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(async () => (await fetch(`${rootUrl}/health`)).ok, proc, 'haproxy', 30_000);
  } catch (error) {
    await proc.kill();
    throw error;
  }
  return { ...proc, rootUrl, baseUrl: `${rootUrl}/v1` };
}

/** haproxy from PATH or /usr/sbin (Debian installs it there, outside a normal user's PATH). */
export function findHaproxy(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (dir && isExecutable(join(dir, 'haproxy'))) return join(dir, 'haproxy');
  }
  return null;
}
