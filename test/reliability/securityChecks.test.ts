import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { startMockOpenAiServer, type MockOpenAiServer } from '../helpers/mockOpenAiServer';
import { spawnChild } from './crashRunSupport';

/**
 * Security checks the workbench's own tests do not cover (issue §6); see RELIABILITY.md
 * for which test proves each item of the list:
 * - a REAL `bin/workbench-web.js` process: its token appears exactly once in everything
 *   it writes (the launch line), whatever requests it serves;
 * - a REAL `bin/stageb.js run` against an OpenAI-compatible server that echoes the
 *   Authorization header into its error: the API key from the environment appears in no
 *   output, no error and no file of the run directory;
 * - @doyensec/electronegativity over src/main/electron + src/main/security + src/preload:
 *   no HIGH or CRITICAL finding.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let work: string;

beforeAll(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-security-'));
});
afterAll(async () => {
  await fsp.rm(work, { recursive: true, force: true });
});

function call(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<number> {
  return fetchRaw(port, options).then((reply) => reply.status);
}

function fetchRaw(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: { host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(options.body);
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

/** Starts bin/workbench-web.js, runs `requests` against it, stops it, and returns what it wrote. */
async function withWebServer(requests: (port: number, token: string) => Promise<void>): Promise<{ stdout: string; stderr: string; token: string }> {
    const runs = path.join(work, 'web-runs');
    await fsp.mkdir(path.join(runs, 'run-a', 'mission'), { recursive: true });
    const server = spawnChild([path.join(repoRoot, 'bin/workbench-web.js'), '--runs', runs, '--port', '0'], { cwd: repoRoot });
    try {
      const launch = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no launch line: ${out}`)), 60_000);
        server.child.stdout!.on('data', (chunk) => {
          out += chunk;
          const line = /^.*#token=[^\s]+$/m.exec(out);
          if (line) {
            clearTimeout(timer);
            resolve(line[0]);
          }
        });
        void server.exited.then((r) => reject(new Error(`server exited: ${r.stderr}`)));
      });
      const { port, token } = /:(?<port>\d+)\/#token=(?<token>[A-Za-z0-9_-]+)/.exec(launch)!.groups as { port: string; token: string };
      expect(token.length).toBeGreaterThanOrEqual(32);
      await requests(Number(port), token);
    } finally {
      server.child.kill('SIGTERM');
    }
    const result = await server.exited;
    return { stdout: result.stdout, stderr: result.stderr, token: /#token=([A-Za-z0-9_-]+)/.exec(result.stdout)![1] };
}

const json = { 'content-type': 'application/json' };

describe('secrets never reach logs', () => {
  it('bin/workbench-web.js prints its token once, in the launch line, and never again', async () => {
    const result = await withWebServer(async (p, token) => {
      // Right token; wrong ones; the token in a query string and in a path; a foreign Host.
      expect(await call(p, { method: 'POST', path: '/api/listRuns', headers: { ...json, authorization: `Bearer ${token}` }, body: '{}' })).toBe(200);
      expect(await call(p, { method: 'POST', path: '/api/listRuns', headers: { ...json, authorization: `Bearer ${token}x` }, body: '{}' })).toBe(401);
      expect(await call(p, { method: 'POST', path: `/api/listRuns?token=${token}`, headers: json, body: '{}' })).toBe(401);
      expect(await call(p, { method: 'POST', path: '/api/listRuns', headers: { ...json, authorization: `Bearer ${token}`, host: 'evil.com' }, body: '{}' })).toBe(403);
      expect(await call(p, { method: 'POST', path: '/api/readSnapshot', headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ runId: 'run-a', mission: 'mission', name: `../../${token}` }) })).toBe(400);
      // Path traversal: never a file outside the static folder (at most the app shell).
      expect((await fetchRaw(p, { path: `/../../etc/passwd?t=${token}` })).body).not.toMatch(/root:.*:0:0:/);
      expect((await fetchRaw(p, { path: '/%2e%2e/%2e%2e/etc/passwd' })).body).not.toMatch(/root:.*:0:0:/);
      expect(await call(p, { path: `/api/events?token=${token}x` })).toBe(401);
    });
    const { token } = result;
    const everything = result.stdout + result.stderr;
    expect(everything.split(token).length - 1, everything).toBe(1);
    expect(result.stdout.trim().split('\n').filter((line) => line.includes(token))).toHaveLength(1);
    // The request log did record the requests, just without the token.
    expect(result.stderr).toMatch(/POST \/api\/listRuns 200/);
  }, 120_000);

  // The request log names API calls by method only (loggablePath), so a client that puts
  // the token in the path (a mangled URL such as /api/<token>) does not get it logged.
  it('a token sent in the URL path is not written to the request log', async () => {
    const result = await withWebServer(async (p, token) => {
      expect(await call(p, { method: 'POST', path: `/api/${token}`, headers: { ...json, authorization: `Bearer ${token}` }, body: '{}' })).toBeGreaterThanOrEqual(400);
    });
    expect((result.stdout + result.stderr).split(result.token).length - 1).toBe(1);
  }, 120_000);

  it('an OpenAI API key from the environment appears in no output, error or run file, even when the server echoes it', async () => {
    const secret = 'sk-reliability-7c1e5b0d9a2f4e6b';
    let server: MockOpenAiServer | null = null;
    try {
      server = await startMockOpenAiServer({
        ownedBy: 'vllm',
        // A careless proxy that puts the Authorization header into its error body.
        chat: (req) => ({ status: 401, body: { error: { message: `invalid key: ${String(req.headers.authorization)}` } } }),
      });
      const demo = await ensureDemoMission(path.join(work, 'demo'), 23, 4);
      const mission = Object.keys(JSON.parse(await fsp.readFile(demo.guidance, 'utf8')))[0];
      const config = path.join(work, 'openai.yaml');
      await fsp.writeFile(
        config,
        [
          'run_name: key-leak',
          `mission: ${mission}`,
          `stage_a_paths: [${JSON.stringify(demo.stageA)}]`,
          `guidance: { path: ${JSON.stringify(demo.guidance)} }`,
          `model: { backend: openai, base_url: ${JSON.stringify(server.baseUrl)}, model: m, api_key_env: STAGEB_RELIABILITY_KEY, max_retries: 0, timeout_ms: 5000 }`,
          'sampler: { candidates: 1 }',
          'reflection: { enabled: false }',
          `output: { root: ${JSON.stringify(path.join(work, 'runs'))}, parquet: false }`,
          '',
        ].join('\n'),
      );
      const run = await spawnChild([path.join(repoRoot, 'bin/stageb.js'), 'run', '--config', config], { cwd: repoRoot, env: { STAGEB_RELIABILITY_KEY: secret } }).exited;
      // The server saw the key (so it was really used)…
      expect(server.chatRequests().length).toBeGreaterThan(0);
      expect(server.chatRequests()[0].headers.authorization).toBe(`Bearer ${secret}`);
      // …the run failed with a typed error…
      expect(run.code).not.toBe(0);
      expect(run.stdout + run.stderr).toMatch(/BACKEND_HTTP|401/);
      // …and the key is nowhere: not in stdout/stderr, not in any file the run wrote.
      expect(run.stdout + run.stderr).not.toContain(secret);
      expect(run.stdout + run.stderr).not.toContain(secret.slice(3, 20));
      const runFiles = await filesUnder(path.join(work, 'runs')).catch(() => []);
      for (const file of runFiles) expect(await fsp.readFile(file, 'utf8'), file).not.toContain(secret);
    } finally {
      await server?.close();
    }
  }, 180_000);
});

describe('electronegativity', () => {
  it('finds nothing of HIGH or CRITICAL severity in src/main/electron, src/main/security and src/preload', async (ctx) => {
    const bin = path.join(repoRoot, 'node_modules/@doyensec/electronegativity/dist/index.js');
    if (!fs.existsSync(bin)) ctx.skip('@doyensec/electronegativity is not installed');
    // One input folder with the three trees (the tool takes one input).
    const input = path.join(work, 'electronegativity-input');
    for (const dir of ['src/main/electron', 'src/main/security', 'src/preload']) {
      if (fs.existsSync(path.join(repoRoot, dir))) await fsp.cp(path.join(repoRoot, dir), path.join(input, path.basename(dir)), { recursive: true });
    }
    const csv = path.join(work, 'electronegativity.csv');
    // -e: the Electron version from package.json, so the tool does not need the network to look it up.
    const output = await new Promise<string>((resolve) =>
      execFile(process.execPath, [bin, '-i', input, '-o', csv, '-r', '-v', 'false', '-e', '45.4.1'], { timeout: 90_000 }, (error, stdout, stderr) => resolve(`${stdout}${stderr}${error ? `\n${error.message}` : ''}`)),
    );
    if (!fs.existsSync(csv)) ctx.skip(`electronegativity produced no report offline: ${output.slice(0, 400)}`);
    const rows = (await fsp.readFile(csv, 'utf8')).trim().split('\n').slice(1).filter(Boolean);
    const findings = rows.map((row) => {
      const [issue, severity, confidence, file, location] = row.split(',').map((cell) => cell.replace(/^"|"$/g, ''));
      return { issue, severity, confidence, file, location };
    });
    console.log(`[securityChecks] electronegativity findings: ${findings.length === 0 ? 'none' : findings.map((f) => `${f.issue} ${f.severity}/${f.confidence} ${f.file}:${f.location}`).join('; ')}`);
    expect(findings.filter((f) => f.severity === 'HIGH' || f.severity === 'CRITICAL')).toEqual([]);
  }, 120_000);
});
