import { request as httpRequest } from 'node:http';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../cli/UsageError';
import { parseWebArgs, startWorkbenchWeb } from './webCli';

let work: string;
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

beforeAll(async () => {
  work = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-webcli-')));
  await fsp.mkdir(path.join(work, 'runs'));
  await fsp.mkdir(path.join(work, 'configs'));
  await fsp.writeFile(path.join(work, 'configs', 'mine.yaml'), 'run_name: mine\n');
});
afterAll(async () => {
  await fsp.rm(work, { recursive: true, force: true });
});

function post<T>(port: number, token: string, method: string, body: unknown): Promise<{ ok: boolean; result?: T; error?: { code: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path: `/api/${method}`, headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('workbench-web command line', () => {
  it("the README's command (`--runs runs`, no --configs) lists the current folder's configs/", async () => {
    const args = parseWebArgs(['--runs', 'runs', '--port', '0', '--quiet'], { cwd: work, env: {} });
    expect(args.configs).toBe(path.join(work, 'configs'));
    const web = await startWorkbenchWeb(args, { stdout: sink, stderr: sink });
    try {
      const reply = await post<{ configs: { path: string }[] }>(web.port, web.token, 'listConfigs', {});
      expect(reply.error).toBeUndefined();
      expect(reply.result?.configs.map((c) => c.path)).toEqual(['mine.yaml']);
    } finally {
      await web.stop();
    }
  });

  it('--configs and STAGEB_CONFIGS win over ./configs; without any the config methods say how to give one', () => {
    const empty = path.join(work, 'runs');
    expect(parseWebArgs(['--configs', 'elsewhere'], { cwd: work, env: { STAGEB_CONFIGS: '/x' } }).configs).toBe(path.join(work, 'elsewhere'));
    expect(parseWebArgs([], { cwd: work, env: { STAGEB_CONFIGS: '/x' } }).configs).toBe('/x');
    expect(parseWebArgs([], { cwd: empty, env: {} }).configs).toBeNull();
    expect(parseWebArgs([], { cwd: work, env: {} })).toMatchObject({ runs: path.join(work, 'runs'), port: 4100, host: '127.0.0.1', staticDir: null, quiet: false });
  });

  it('is strict like every stageb command: unknown flags, missing values and bad ports are usage errors', () => {
    const where = { cwd: work, env: {} };
    expect(() => parseWebArgs(['--bogus'], where)).toThrow(UsageError);
    expect(() => parseWebArgs(['--runs'], where)).toThrow(UsageError);
    expect(() => parseWebArgs(['--port', '70000'], where)).toThrow(/--port/);
    expect(parseWebArgs(['--port=0', '--host=::1'], where)).toMatchObject({ port: 0, host: '::1' });
  });
});
