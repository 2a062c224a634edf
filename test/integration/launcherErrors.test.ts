import { request as httpRequest } from 'node:http';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { startWorkbenchWeb } from '../../src/main/web/webCli';
import type { JobInfo } from '../../src/shared/api/contract';

/**
 * An error before the pipeline starts (here a missing guidance file) reaches the launcher,
 * through the web transport and the engine's --events-json stream, as the typed error it
 * is, with its code and file: not as "INTERNAL: the engine exited with code 1".
 */
let work: string;
let web: Awaited<ReturnType<typeof startWorkbenchWeb>>;
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

function post<T>(method: string, body: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: web.port, method: 'POST', path: `/api/${method}`, headers: { host: `127.0.0.1:${web.port}`, authorization: `Bearer ${web.token}`, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const envelope = JSON.parse(text) as { ok: boolean; result?: T };
          if (!envelope.ok) reject(new Error(`${method}: HTTP ${res.statusCode} ${text}`));
          else resolve(envelope.result as T);
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

beforeAll(async () => {
  work = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-launcher-errors-')));
  const demo = await ensureDemoMission(path.join(work, 'demo'), 23, 8);
  const mission = Object.keys(JSON.parse(await fsp.readFile(demo.guidance, 'utf8')))[0];
  await fsp.mkdir(path.join(work, 'configs'));
  await fsp.mkdir(path.join(work, 'runs'));
  await fsp.writeFile(path.join(work, 'configs', 'missing-guidance.yaml'), [
    'run_name: missing-guidance', 'seed: 1', `mission: ${JSON.stringify(mission)}`,
    'stage_a_paths:', `  - ${JSON.stringify(demo.stageA)}`,
    'guidance:', `  path: ${JSON.stringify(path.join(work, 'nowhere', 'guidance.json'))}`,
    'model:', '  backend: llama-cpp', `  path: ${JSON.stringify(path.join(work, 'model.gguf'))}`,
    'output:', `  root: ${JSON.stringify(path.join(work, 'runs'))}`, '',
  ].join('\n'));
  web = await startWorkbenchWeb({ runs: path.join(work, 'runs'), configs: path.join(work, 'configs'), port: 0, host: '127.0.0.1', staticDir: null, quiet: true }, { stdout: sink, stderr: sink });
});

afterAll(async () => {
  await web?.stop();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

describe('launcher errors', () => {
  it('shows a pre-pipeline error with its code and file', async () => {
    const { jobId } = await post<{ jobId: string }>('startRun', { configPath: 'missing-guidance.yaml' });
    let job: JobInfo | undefined;
    for (let i = 0; i < 600; i++) {
      job = (await post<{ jobs: JobInfo[] }>('listJobs', {})).jobs.find((j) => j.jobId === jobId);
      if (job && job.status !== 'running' && job.status !== 'starting') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(job?.status).toBe('failed');
    expect(job?.error?.code).toBe('GUIDANCE_NOT_FOUND');
    expect(job?.error?.location.file).toBe(path.join(work, 'nowhere', 'guidance.json'));
  });
});
