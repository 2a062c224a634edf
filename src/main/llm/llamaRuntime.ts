import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { StageBError } from '../../shared/errors';
import type { LlamaCppModelConfig } from '../../shared/schemas/runConfig';
import type { LlamaRuntimeInfo } from './LlmBackend';

/**
 * One llama.cpp runtime per (gpu, threads) per process: getLlama loads native
 * binaries (seconds), and several backends in one process (tests, reflection
 * next to rollout) share it. Never builds from source or downloads anything.
 */
const runtimes = new Map<string, Promise<Llama>>();

/** Physical cores from /proc/cpuinfo (Linux); falls back to the logical count elsewhere. */
export function physicalCoreCount(): number {
  const logical = availableParallelism();
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const cores = new Set<string>();
    let physical = '0';
    for (const line of text.split('\n')) {
      const [rawKey, rawValue] = line.split(':');
      const key = rawKey?.trim();
      const value = rawValue?.trim() ?? '';
      if (key === 'physical id') physical = value;
      else if (key === 'core id') cores.add(`${physical}:${value}`);
    }
    return cores.size > 0 ? Math.min(cores.size, logical) : logical;
  } catch {
    return logical;
  }
}

/**
 * Threads for llama.cpp: the configured count, capped at the physical cores.
 * ggml's worker threads spin at barriers, so more threads than cores (or SMT
 * siblings) collapses throughput instead of raising it.
 */
export function resolveThreadCount(configured: number, cores: number = physicalCoreCount()): number {
  const available = Math.max(1, cores);
  return configured > 0 ? Math.min(configured, available) : available;
}

export function getLlamaRuntime(gpu: LlamaCppModelConfig['gpu'], threads: number): Promise<Llama> {
  const key = `${String(gpu)}|${threads}`;
  let runtime = runtimes.get(key);
  if (!runtime) {
    runtime = getLlama({
      gpu,
      build: 'never',
      skipDownload: true,
      progressLogs: false,
      maxThreads: threads,
      logLevel: LlamaLogLevel.error,
    }).catch((error: unknown) => {
      runtimes.delete(key);
      throw new StageBError('MODEL_LOAD_FAILED', `cannot start llama.cpp (gpu: ${String(gpu)}): ${(error as Error)?.message ?? String(error)}`, { field: 'model.gpu' });
    });
    runtimes.set(key, runtime);
  }
  return runtime;
}

/** What a runtime runs on: the llama.cpp release of its binary, the compute backend `gpu` resolved to, and the devices. */
export async function describeLlamaRuntime(llama: Llama): Promise<LlamaRuntimeInfo> {
  const devices = llama.gpu === false ? [] : await llama.getGpuDeviceNames().catch(() => []);
  return {
    llamaCppRelease: llama.llamaCppRelease.release,
    compute: { backend: llama.gpu === false ? 'cpu' : llama.gpu, devices, build: llama.buildType },
  };
}
