import type { z } from 'zod';
import type { BackendConfig } from '../../../shared/schemas/backends/BackendConfig';
import type { Compute, RunVersions } from '../../../shared/schemas/telemetry';
import type { LlmBackend } from '../LlmBackend';

export type OpenBackendOptions = { signal?: AbortSignal };

/** What run.json records about the model that ran, beyond its name and decode batching. */
export type ModelProvenance = {
  path: string | null;
  fingerprint: string | null;
  /** Versions of what ran the model, added to run.json's `versions` (e.g. llama.cpp's release). */
  versions: RunVersions;
  compute: Compute | null;
};

/**
 * The main-process half of a backend (its pure half, the config, is in
 * src/shared/schemas/backends/). A module that loads native code imports it lazily
 * inside these functions, so registering a backend costs nothing to runs that use another.
 */
export type BackendModule<Config extends BackendConfig = BackendConfig> = {
  config: Config;
  /** Builds the backend: loads the model or connects to the server. */
  open(config: z.infer<Config['schema']>, options: OpenBackendOptions): Promise<LlmBackend>;
  /**
   * Exact token counts of `texts` before anything loads (budgets are enforced before the
   * model is), or null when they cannot be counted yet; then the open backend counts them.
   */
  countTokensBeforeLoad(config: z.infer<Config['schema']>, texts: string[]): Promise<number[] | null>;
  /** run.json's provenance of the loaded model. */
  describe(config: z.infer<Config['schema']>, backend: LlmBackend): Promise<ModelProvenance>;
};

/** Checks a backend module against BackendModule while keeping its config's exact types. */
export function defineBackendModule<Config extends BackendConfig>(module: BackendModule<Config>): BackendModule<Config> {
  return module;
}
