import type { z } from 'zod';

/**
 * The pure half of a backend: the zod schema of its `model` block and what can be said
 * about a config of it without IO. Its main-process half (factory, token counting
 * before the load, provenance for run.json) is a BackendModule in src/main/llm/backends/.
 * Adding a backend is one of each, plus one line in each registry list.
 */
export type BackendConfig<Name extends string = string, Schema extends BackendSchema<Name> = BackendSchema<Name>> = {
  name: Name;
  schema: Schema;
  /** Keys of the model block that name files; the config loader resolves them against the config file's folder. */
  paths: readonly (keyof z.infer<Schema> & string)[];
  /** The model file on this machine the config names (run.json's path and fingerprint, where the demo writes its tiny model); null when a server holds the model. */
  modelFile(config: z.infer<Schema>): string | null;
  /** The model_load phase message before the backend opens. */
  loadMessage(config: z.infer<Schema>): string;
  /** What runs the model, in the model-load line when run.json records no llama.cpp compute. */
  runsOn: string;
};

export type BackendSchema<Name extends string = string> = z.ZodObject<{ backend: z.ZodLiteral<Name> } & z.ZodRawShape>;

/** Checks a backend's pure half against BackendConfig while keeping its exact name and schema types. */
export function defineBackendConfig<Name extends string, Schema extends BackendSchema<Name>>(config: BackendConfig<Name, Schema>): BackendConfig<Name, Schema> {
  return config;
}
