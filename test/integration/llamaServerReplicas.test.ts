import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { ensureTinyModelForTests } from '../helpers/tinyModel';
import { findHaproxy, llamaServerForTests, llamaServerRequired, startHaproxy, startLlamaServer, type Balancer, type LlamaServer } from '../helpers/llamaServer';
import { readJsonLines, stableArtifacts, writeServerRunConfig } from '../helpers/llamaServerRun';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { runStageB } from '../../src/main/runStageB';
import { SelectionRecordSchema, TrajectoryRecordSchema } from '../../src/shared/schemas/records';

/**
 * Scale-out as docs/backends.md describes it: two llama-server replicas behind
 * HAProxy (Debian's package) on loopback, and `model.base_url` pointing at the
 * balancer. A run spreads its requests over both; a replica killed mid-run is
 * survived through the backend's retries, with no group lost or duplicated, and
 * — the servers decoding deterministically — with the same artifacts as a run
 * without the kill.
 *
 * Deterministic settings: each replica runs `--no-cache-prompt` (every prompt is
 * evaluated whole: a prefix reused from the slot cache is evaluated in other batch
 * shapes, which on the CPU moves the logits in the last bits, and the same seed
 * then samples another text — measured here before the flag was added),
 * `--parallel 1` (one request at a time, so no request shares a decode batch with a
 * neighbour), the same `-t 1 -tb 1`, binary and GGUF on every replica, and every
 * request carries its own seed (the openai backend sends n = 1 per candidate). A
 * candidate's text then depends only on its prompt, seed and sampling parameters,
 * not on which replica served it or what that replica served before.
 */
const llamaServer = llamaServerForTests('llama-server replicas behind HAProxy');
const haproxy = findHaproxy();
if (!haproxy && llamaServerRequired()) throw new Error('llama-server replicas behind HAProxy: haproxy is missing although STAGEB_REQUIRE_LLAMA_SERVER is set (.ci/run installs it)');
if (!haproxy) console.info('[skipped] llama-server replicas behind HAProxy: no haproxy (apt-get install haproxy)');

const TICKETS = 12;
const K = 2;

describe.skipIf(!llamaServer || !haproxy)('llama-server replicas behind HAProxy', () => {
  let dir: string;
  let model: string;
  let demo: Awaited<ReturnType<typeof ensureDemoMission>>;
  let running: Array<LlamaServer | Balancer> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stageb-replicas-'));
    model = await ensureTinyModelForTests();
    demo = await ensureDemoMission(join(dir, 'demo'), 17, 20);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function cluster(): Promise<{ replicas: LlamaServer[]; balancer: Balancer }> {
    const replicas = await Promise.all([0, 1].map(() => startLlamaServer({ binary: llamaServer!, model, parallel: 1, threads: 1, contextSize: 8192, extraArgs: ['--no-cache-prompt'] })));
    running.push(...replicas);
    const balancer = await startHaproxy(haproxy!, replicas);
    running.push(balancer);
    return { replicas, balancer };
  }

  const configFor = (baseUrl: string, outputRoot: string) =>
    writeServerRunConfig({
      dir,
      name: 'replicas',
      baseUrl,
      stageA: demo.stageA,
      guidance: demo.guidance,
      tickets: TICKETS,
      candidates: K,
      // One request per replica in flight: as many as the two replicas decode at once.
      concurrency: 2,
      maxRetries: 6,
      contextSize: 8192,
      outputRoot,
    });

  async function groupsAndCandidates(runDir: string) {
    const trajectories = (await readJsonLines(join(runDir, 'trajectories.jsonl'))).map((row) => TrajectoryRecordSchema.parse(row));
    const selections = (await readJsonLines(join(runDir, 'selections.jsonl'))).map((row) => SelectionRecordSchema.parse(row));
    return { trajectories, selections };
  }

  let baseline: Record<string, unknown>;
  let baselineGroups = 0;

  it('spreads a run over both replicas', async () => {
    const { replicas, balancer } = await cluster();
    const result = await runStageB({ configPath: await configFor(balancer.baseUrl, join(dir, 'baseline')) });
    expect(result.status).toBe('completed');
    const served = replicas.map((r) => r.counted('served'));
    // Round robin over two always-healthy replicas: both serve, and neither more than about its share.
    expect(Math.min(...served)).toBeGreaterThan(0);
    expect(Math.max(...served) / (served[0] + served[1])).toBeLessThan(0.75);
    baseline = await stableArtifacts(result.runDir);
    const { selections } = await groupsAndCandidates(result.runDir);
    baselineGroups = selections.length;
    expect(baselineGroups).toBeGreaterThan(0);
  }, 600_000);

  it('survives a replica killed mid-run: nothing lost or duplicated, the same artifacts as without the kill', async () => {
    expect(baseline, 'needs the first test').toBeDefined();
    const { replicas, balancer } = await cluster();
    // SIGKILL replica 0 once the pair has served a few requests, at a moment it has taken a request
    // and not finished it: that request dies with the process and the balancer answers it with a 5xx.
    const served = (r: LlamaServer) => r.counted('served');
    let servedByVictimAtKill = -1;
    const watcher = setInterval(() => {
      const victim = replicas[0];
      if (servedByVictimAtKill < 0 && served(victim) + served(replicas[1]) >= 6 && victim.counted('started') > served(victim)) {
        servedByVictimAtKill = served(victim);
        void victim.kill();
      }
    }, 1);
    let result;
    try {
      result = await runStageB({ configPath: await configFor(balancer.baseUrl, join(dir, 'failover')) });
    } finally {
      clearInterval(watcher);
    }
    expect(result.status).toBe('completed');
    expect(servedByVictimAtKill).toBeGreaterThan(0);
    expect(replicas[0].child.signalCode).toBe('SIGKILL');
    // After the kill the survivor served the rest.
    expect(served(replicas[1])).toBeGreaterThan(6 - servedByVictimAtKill);

    const { trajectories, selections } = await groupsAndCandidates(result.runDir);
    const candidateKeys = trajectories.map((row) => `${row.epoch}/${row.group_id}/${row.candidate_index}`);
    expect(new Set(candidateKeys).size).toBe(candidateKeys.length);
    expect(candidateKeys).toHaveLength(baselineGroups * K);
    const groupKeys = selections.map((row) => `${row.epoch}/${row.group_id}`);
    expect(new Set(groupKeys).size).toBe(groupKeys.length);
    expect(groupKeys).toHaveLength(baselineGroups);

    expect(await stableArtifacts(result.runDir)).toEqual(baseline);
  }, 600_000);
});
