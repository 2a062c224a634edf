import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ensureDemoMission, DEMO_MISSION } from '../../src/main/demo/generateDemoMission';
import { getModelShape, type ModelShape } from '../../src/main/llm/modelShapes';
import { createRandomModel } from '../../src/main/llm/tinyModel';
import { ERROR_CODES, type SerializedError } from '../../src/shared/errors';
import { spawnChild } from './crashRunSupport';

/**
 * Model faults (issue §5): out of memory gives a clear, typed error. A child
 * process caps its own address space (RLIMIT_AS via prlimit) and asks
 * createLlamaCppBackend for a context that cannot fit, two ways:
 * - node-llama-cpp's memory check refuses a KV cache larger than the machine
 *   (InsufficientMemoryError, before anything is allocated);
 * - a KV cache that passes the check but exceeds the cap: ggml's allocation
 *   genuinely fails, and the reason exists only in llama.cpp's log.
 * Either way the child must exit normally with MODEL_OUT_OF_MEMORY naming the
 * model file, and this (host) process is never near the allocation.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const childScript = path.join(repoRoot, 'test/fixtures/reliability/modelOutOfMemoryChild.ts');
const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Few weights, wide KV: 8 layers x 16 KV heads x 128 dims, 64 KiB of F16 keys+values per token, a ~5 MB file. */
const WIDE_KV_SHAPE: ModelShape = {
  ...getModelShape('tiny'),
  name: 'wide-kv',
  description: 'Out-of-memory fixture: a tiny model whose KV cache is large per token.',
  layers: 8,
  heads: 16,
  kvHeads: 16,
  headDim: 128,
  weightType: 'Q8_0',
};
const KV_BYTES_PER_TOKEN = 2 * WIDE_KV_SHAPE.layers * WIDE_KV_SHAPE.kvHeads * WIDE_KV_SHAPE.headDim * 2;
const roundUp = (value: number, step: number) => Math.ceil(value / step) * step;

/** A KV cache four times the machine's RAM: node-llama-cpp's check must refuse it on any machine without huge swap. */
const IMPOSSIBLE_CONTEXT = roundUp((4 * os.totalmem()) / KV_BYTES_PER_TOKEN, 1024);
/** 3 GiB of KV cache against 1 GiB of address-space headroom: passes the RAM check, fails the allocation. */
const CAPPED_CONTEXT = (3 * GiB) / KV_BYTES_PER_TOKEN;
const CAP_HEADROOM_MIB = 1024;

const hasPrlimit = (() => {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const enoughFreeRam = os.freemem() > 3 * GiB + 4 * GiB;
if (!hasPrlimit) console.warn('[modelOutOfMemory] skipped: needs Linux with util-linux prlimit');
else if (!enoughFreeRam) console.warn('[modelOutOfMemory] native-allocation case skipped: needs 7 GiB of free RAM so the 3 GiB KV cache passes the RAM check');

type ChildReport = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  cap: { vmSize: number; limit: number };
  error: SerializedError | null;
  formatted: string | null;
  created: unknown;
};

let dir: string;
let modelPath: string;
let measuredVmSize = 0;
const observed: Record<string, string> = {};

async function runCappedChild(contextSize: number, sequences: number, headroomMiB: number): Promise<ChildReport> {
  const { code, signal, stdout, stderr } = await spawnChild(['--import', 'tsx', childScript, modelPath, String(contextSize), String(sequences), String(headroomMiB)], { cwd: repoRoot }).exited;
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const cap = lines.find((line) => 'limit' in line) as ChildReport['cap'] | undefined;
  const outcome = lines.find((line) => 'error' in line || 'created' in line) ?? {};
  if (!cap) throw new Error(`child printed no cap (code ${code}, signal ${signal}):\n${stdout}\n${stderr}`);
  measuredVmSize = Math.max(measuredVmSize, cap.vmSize);
  return {
    code,
    signal,
    stderr,
    cap,
    error: (outcome.error as SerializedError | undefined) ?? null,
    formatted: (outcome.formatted as string | null | undefined) ?? null,
    created: outcome.created ?? null,
  };
}

function expectOutOfMemory(report: ChildReport): SerializedError {
  expect(report.signal, report.stderr).toBeNull();
  expect(report.code, report.stderr).toBe(0);
  expect(report.created, 'the context was created: nothing ran out of memory').toBeNull();
  const error = report.error!;
  expect(error, report.stderr).not.toBeNull();
  expect(ERROR_CODES).toContain(error.code);
  expect(error.code, error.message).toBe('MODEL_OUT_OF_MEMORY');
  expect(error.location.file).toBe(modelPath);
  expect(report.formatted).toContain(modelPath);
  expect(report.formatted!.startsWith(`MODEL_OUT_OF_MEMORY ${modelPath}: `)).toBe(true);
  return error;
}

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-oom-'));
  modelPath = (await createRandomModel({ out: path.join(dir, 'wide-kv.gguf'), shape: WIDE_KV_SHAPE })).path;
});
afterAll(async () => {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
  console.log(`[modelOutOfMemory] KV ${KV_BYTES_PER_TOKEN} B/token; impossible context ${IMPOSSIBLE_CONTEXT}; capped context ${CAPPED_CONTEXT}; child VmSize ${(measuredVmSize / GiB).toFixed(1)} GiB; observed ${JSON.stringify(observed)}`);
});

describe.skipIf(!hasPrlimit)('out of memory, provoked for real', () => {
  it('a KV cache larger than the machine → node-llama-cpp refuses it → MODEL_OUT_OF_MEMORY naming the model file, child exits normally', async () => {
    const report = await runCappedChild(IMPOSSIBLE_CONTEXT, 1, CAP_HEADROOM_MIB);
    const error = expectOutOfMemory(report);
    expect(error.message).toContain(`cannot create a context of ${IMPOSSIBLE_CONTEXT} tokens x 1 sequences`);
    expect(error.message).toMatch(/too large for the available (RAM|resources)/);
    expect(error.message).toMatch(/lower model\.context_size or model\.sequences/);
    observed.check = error.message;
  });

  it.skipIf(!enoughFreeRam)('a KV cache over the address-space cap → ggml cannot allocate it → MODEL_OUT_OF_MEMORY with llama.cpp\'s reason, child exits normally', async () => {
    const report = await runCappedChild(CAPPED_CONTEXT, 1, CAP_HEADROOM_MIB);
    // The allocation really failed natively: ggml said so on stderr (the default logger still prints).
    expect(report.stderr).toMatch(/failed to allocate buffer of size 3221225472/);
    const error = expectOutOfMemory(report);
    expect(error.message).toContain(`cannot create a context of ${CAPPED_CONTEXT} tokens x 1 sequences: Failed to create context`);
    expect(error.message).toMatch(/\(llama\.cpp: [^)]*(insufficient memory|failed to allocate)/);
    observed.native = error.message;
  });

  it('`stageb run` prints the out-of-memory error verbatim with its code and exits 1', async () => {
    const demo = await ensureDemoMission(path.join(dir, 'demo'), 17, 12);
    const configPath = path.join(dir, 'oom.yaml');
    const config = {
      run_name: 'oom',
      seed: 17,
      mission: DEMO_MISSION,
      stage_a_paths: [demo.stageA],
      guidance: { path: demo.guidance },
      model: { backend: 'llama-cpp', path: modelPath, context_size: IMPOSSIBLE_CONTEXT, sequences: 1, threads: 1, gpu: false },
      runner: { epochs: 1, batch_size: 4, max_tickets: 4 },
      reflection: { enabled: false },
      output: { root: path.join(dir, 'runs') },
    };
    await fsp.writeFile(configPath, stringify(config));
    // Same safety net as the child: an address-space cap well above what a node process maps at start.
    const cap = Math.max(measuredVmSize, 40 * GiB) + 4 * GiB;
    const { code, signal, stdout, stderr } = await spawnChild([path.join(repoRoot, 'bin/stageb.js'), 'run', '--config', configPath], {
      cwd: repoRoot,
      prefix: ['prlimit', `--as=${cap}`],
    }).exited;
    expect(signal, stderr).toBeNull();
    expect(code, `${stdout}\n${stderr}`).toBe(1);
    const line = stderr.split('\n').find((entry) => entry.startsWith('MODEL_OUT_OF_MEMORY '));
    expect(line, stderr).toBeDefined();
    expect(line!.startsWith(`MODEL_OUT_OF_MEMORY ${modelPath}: cannot create a context of ${IMPOSSIBLE_CONTEXT} tokens x 1 sequences: `)).toBe(true);
    expect(line).toMatch(/too large for the available (RAM|resources)/);
    expect(existsSync(modelPath)).toBe(true);
    observed.cli = line!;
  });
});
