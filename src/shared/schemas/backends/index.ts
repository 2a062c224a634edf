import { z } from 'zod';
import type { BackendConfig } from './BackendConfig';
import { llamaCppBackendConfig } from './llamaCppModel';
import { openAiBackendConfig } from './openAiModel';

/**
 * Every backend's config, one line each. The run config's `model` block is the
 * discriminated union of their schemas, and this module is the only place outside a
 * backend's own modules that tells backends apart (src/main/llm/backends/registry.test.ts
 * fails on a comparison with a backend name anywhere else).
 */
export const BACKEND_CONFIGS = [llamaCppBackendConfig, openAiBackendConfig] as const;

type SchemasOf<T extends readonly { schema: unknown }[]> = { -readonly [K in keyof T]: T[K] extends { schema: infer S } ? S : never };
type BackendSchemas = SchemasOf<typeof BACKEND_CONFIGS>;

export const ModelConfigSchema = z.discriminatedUnion('backend', BACKEND_CONFIGS.map((backend) => backend.schema) as unknown as BackendSchemas);
export type ModelConfig = z.infer<typeof ModelConfigSchema>;
export type BackendName = ModelConfig['backend'];

export const BACKEND_NAMES: readonly BackendName[] = BACKEND_CONFIGS.map((backend) => backend.name);

/** A registered backend seen through any model block (the registry checks which block is whose). */
type RegisteredBackend = Omit<BackendConfig, 'modelFile' | 'loadMessage'> & {
  modelFile(config: ModelConfig): string | null;
  loadMessage(config: ModelConfig): string;
};

/** The registered backend of that name; undefined for a name no backend has (e.g. an older run.json's). */
export function backendConfigNamed(name: string): RegisteredBackend | undefined {
  return (BACKEND_CONFIGS as readonly unknown[] as readonly RegisteredBackend[]).find((backend) => backend.name === name);
}

/** The backend a model block names (a validated block always names a registered one). */
function backendConfigOf(model: ModelConfig): RegisteredBackend {
  const backend = backendConfigNamed(model.backend);
  if (!backend) throw new Error(`no backend is registered as ${String(model.backend)}`);
  return backend;
}

/** The model_load phase message before the backend opens: what it loads or connects to. */
export function modelLoadMessage(model: ModelConfig): string {
  return backendConfigOf(model).loadMessage(model);
}

/** The model file on this machine the block names; null when a server holds the model. */
export function localModelFile(model: ModelConfig): string | null {
  return backendConfigOf(model).modelFile(model);
}

/** The block with every file path its backend declares passed through `resolve`. */
export function resolveModelPaths(model: ModelConfig, resolve: (path: string) => string): ModelConfig {
  const resolved: Record<string, unknown> = { ...model };
  for (const key of backendConfigOf(model).paths) {
    const value = resolved[key];
    if (typeof value === 'string') resolved[key] = resolve(value);
  }
  return resolved as ModelConfig;
}

/** What ran the model, for a run.json's backend name; an unknown name stands for itself. */
export function backendRunsOn(name: string): string {
  return backendConfigNamed(name)?.runsOn ?? name;
}
