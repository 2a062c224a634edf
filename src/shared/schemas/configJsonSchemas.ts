import { z } from 'zod';
import { FusionConfigSchema, SftConfigSchema } from '../distill/fusionConfig';
import { RunConfigSchema } from './runConfig';

/**
 * The JSON Schemas published in schema/ for editors (yaml-language-server, the
 * launcher's Monaco editor), generated from the zod schemas that parse the files,
 * so an editor and the loader agree. `npm run schema` writes them;
 * configJsonSchemas.test.ts fails when a shipped file differs from what this emits.
 *
 * io: 'input' describes what a person writes: keys with a default are optional.
 * Refinements zod cannot express (mix ratios summing to 1) are left to the loader.
 */
export const CONFIG_SCHEMA_KINDS = {
  run: { file: 'run-config.schema.json', title: 'Stage-B run config', schema: RunConfigSchema },
  fusion: { file: 'fusion-config.schema.json', title: 'Stage-B fusion config (SFT corpus sources)', schema: FusionConfigSchema },
  sft: { file: 'sft-config.schema.json', title: 'Stage-B SFT mix config', schema: SftConfigSchema },
} as const;

export type ConfigSchemaKind = keyof typeof CONFIG_SCHEMA_KINDS;

/** The folder, relative to the repository root, the schema files are shipped in. */
export const CONFIG_SCHEMA_DIR = 'schema';

export function configJsonSchema(kind: ConfigSchemaKind): Record<string, unknown> {
  const { schema, title } = CONFIG_SCHEMA_KINDS[kind];
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  const { $schema, ...rest } = json;
  return { $schema, title, ...rest };
}

/** The exact text of schema/<file>: stable key order, two-space indent, final newline. */
export function renderConfigJsonSchema(kind: ConfigSchemaKind): string {
  return `${JSON.stringify(configJsonSchema(kind), null, 2)}\n`;
}

/** The schema path a `# yaml-language-server: $schema=...` line names, or null (the same match yaml-language-server uses). */
export function schemaModelineOf(text: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    if (!/^#\s+(?:yaml-language-server\s*:|\$schema:)/.test(line)) continue;
    const match = /\$schema(?:=|:\s*)(\S+)/.exec(line);
    if (match) return match[1];
  }
  return null;
}
