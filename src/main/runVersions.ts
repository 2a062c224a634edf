import type { Compute, RunManifest, RunVersions } from '../shared/schemas/telemetry';
import { backendRunsOn } from '../shared/schemas/backends';
import { appVersion, dependencyVersion } from './packageRoot';

/** The versions every run records; the rest of RunVersions where they apply. */
export type RecordedVersions = RunVersions & Required<Pick<RunVersions, 'app' | 'node' | 'node-llama-cpp' | 'zod'>>;

/**
 * run.json's `versions`: the app, Node, node-llama-cpp and zod always; what the backend
 * reports of what ran the model (llama.cpp's release when a llama.cpp runtime loaded it);
 * Electron when the engine runs inside it. Reads package.json files only, so it needs no model.
 */
export function collectRunVersions(options: { backend?: RunVersions; electron?: string | undefined } = {}): RecordedVersions {
  const electron = 'electron' in options ? options.electron : process.versions.electron;
  return {
    app: appVersion(),
    node: process.version,
    'node-llama-cpp': dependencyVersion('node-llama-cpp'),
    zod: dependencyVersion('zod'),
    ...options.backend,
    ...(electron ? { electron } : {}),
  };
}

/**
 * The line printed after the model loads: what ran it, so a log says which backend and
 * devices a run used without opening run.json.
 */
export function formatModelLoadLine(description: Pick<RunManifest, 'model' | 'versions'> & { compute?: Compute | null }): string {
  const { model, versions, compute } = description;
  const where = compute
    ? `llama.cpp ${versions['llama.cpp'] ?? '?'} (${compute.build}) on ${compute.backend}${compute.devices.length > 0 ? ` (${compute.devices.join(', ')})` : ''}`
    : backendRunsOn(model.backend);
  const stack = (['app', 'node-llama-cpp', 'electron', 'node'] as const)
    .filter((key) => versions[key] !== undefined)
    .map((key) => `${key} ${versions[key]}`)
    .join(', ');
  return `model ${model.name ?? model.path ?? '?'}: ${where}${stack ? `; ${stack}` : ''}`;
}
