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
  const { $schema, ...rest } = nullableAsAnyOf(json) as Record<string, unknown>;
  return { $schema, title, ...rest };
}

const ANNOTATIONS = new Set(['description', 'default', 'title', 'examples', 'deprecated']);

/**
 * Rewrites `{type: [T, "null"], ...}` (how zod emits a nullable) as
 * `{anyOf: [{type: T, ...}, {type: "null"}]}`, which means the same. yaml-language-server's
 * completion crashes on the first form when the default is null (it quotes the default as
 * a T), so editors would offer no completions in objects holding such a key.
 */
function nullableAsAnyOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableAsAnyOf);
  if (!node || typeof node !== 'object') return node;
  const entries = Object.entries(node as Record<string, unknown>).map(([key, value]) => [key, nullableAsAnyOf(value)] as const);
  const object = Object.fromEntries(entries) as Record<string, unknown>;
  const type = object.type;
  if (!Array.isArray(type) || !type.includes('null') || type.length !== 2) return object;
  const annotations: Record<string, unknown> = {};
  const constraints: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === 'type') continue;
    (ANNOTATIONS.has(key) ? annotations : constraints)[key] = value;
  }
  return { ...annotations, anyOf: [{ type: type.find((t) => t !== 'null'), ...constraints }, { type: 'null' }] };
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
