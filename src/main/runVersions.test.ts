import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RunManifestSchema, RunVersionsSchema } from '../shared/schemas/telemetry';
import { collectRunVersions, formatModelLoadLine } from './runVersions';
import { findPackageRoot } from './packageRoot';

const repoRoot = new URL('../../', import.meta.url);
const json = (relative: string) => JSON.parse(readFileSync(new URL(relative, repoRoot), 'utf8')) as { version: string };

describe('collectRunVersions', () => {
  it('records the app, node-llama-cpp and zod versions as installed, never "unknown"', () => {
    const versions = collectRunVersions({ electron: undefined });
    expect(versions.app).toBe(json('package.json').version);
    expect(versions['node-llama-cpp']).toBe(json('node_modules/node-llama-cpp/package.json').version);
    expect(versions.zod).toBe(json('node_modules/zod/package.json').version);
    expect(versions.node).toBe(process.version);
    expect(Object.values(versions)).not.toContain('unknown');
    expect(RunVersionsSchema.parse(versions)).toEqual(versions);
  });

  it("records llama.cpp's release when a runtime loaded the model, and Electron only inside it", () => {
    expect(collectRunVersions({ electron: undefined })).not.toHaveProperty('llama.cpp');
    expect(collectRunVersions({ electron: undefined })).not.toHaveProperty('electron');
    const inElectron = collectRunVersions({ backend: { 'llama.cpp': 'b6123' }, electron: '45.4.1' });
    expect(inElectron['llama.cpp']).toBe('b6123');
    expect(inElectron.electron).toBe('45.4.1');
  });

  it('finds the package root from any module below it', () => {
    expect(findPackageRoot()).toBe(findPackageRoot(new URL('../shared/schemas', import.meta.url).pathname));
    expect(json('package.json')).toEqual(JSON.parse(readFileSync(`${findPackageRoot()}/package.json`, 'utf8')));
  });
});

describe('run.json versions and compute', () => {
  const base = {
    run_name: 'r', mission: 'm', seed: 1, config: {}, config_hash: 'h', inputs: [], created_at: '2026-01-01T00:00:00Z',
    model: { backend: 'llama-cpp', path: '/m.gguf', fingerprint: 'f', name: 'tiny' },
  };

  it('keeps what the writer records', () => {
    const manifest = RunManifestSchema.parse({
      ...base,
      versions: collectRunVersions({ backend: { 'llama.cpp': 'b6123' }, electron: undefined }),
      compute: { backend: 'cuda', devices: ['NVIDIA H200'], build: 'prebuilt' },
    });
    expect(manifest.versions['llama.cpp']).toBe('b6123');
    expect(manifest.compute).toEqual({ backend: 'cuda', devices: ['NVIDIA H200'], build: 'prebuilt' });
  });

  it('still reads a run.json written before versions and compute were recorded', () => {
    const old = RunManifestSchema.parse({ ...base, versions: { node: 'v22.12.0', 'node-llama-cpp': 'unknown', zod: '4.1.0', app: 'unknown' } });
    expect(old.compute).toBeUndefined();
    expect(old.versions.app).toBe('unknown');
  });

  it('rejects a compute backend llama.cpp does not have', () => {
    expect(RunManifestSchema.safeParse({ ...base, versions: {}, compute: { backend: 'tpu', devices: [], build: 'prebuilt' } }).success).toBe(false);
  });
});

describe('formatModelLoadLine', () => {
  it('names the llama.cpp release, build, backend, devices and the versions', () => {
    const line = formatModelLoadLine({
      model: { backend: 'llama-cpp', path: '/m.gguf', fingerprint: 'f', name: 'tiny' },
      versions: { app: '0.1.0', node: 'v22.12.0', 'node-llama-cpp': '3.22.1', zod: '4', 'llama.cpp': 'b6123', electron: '45.4.1' },
      compute: { backend: 'cuda', devices: ['NVIDIA H200', 'NVIDIA H200'], build: 'prebuilt' },
    });
    expect(line).toBe('model tiny: llama.cpp b6123 (prebuilt) on cuda (NVIDIA H200, NVIDIA H200); app 0.1.0, node-llama-cpp 3.22.1, electron 45.4.1, node v22.12.0');
  });

  it('says cpu with no devices, and a server for the openai backend', () => {
    const cpu = formatModelLoadLine({
      model: { backend: 'llama-cpp', path: '/m.gguf', fingerprint: 'f', name: 'tiny' },
      versions: { 'llama.cpp': 'b6123' },
      compute: { backend: 'cpu', devices: [], build: 'localBuild' },
    });
    expect(cpu).toBe('model tiny: llama.cpp b6123 (localBuild) on cpu');
    const server = formatModelLoadLine({ model: { backend: 'openai', path: null, fingerprint: null, name: 'qwen' }, versions: { app: '0.1.0' }, compute: null });
    expect(server).toBe('model qwen: an OpenAI-compatible server; app 0.1.0');
  });
});
