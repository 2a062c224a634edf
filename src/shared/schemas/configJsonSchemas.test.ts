import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_SCHEMA_DIR, CONFIG_SCHEMA_KINDS, configJsonSchema, renderConfigJsonSchema, schemaModelineOf, type ConfigSchemaKind } from './configJsonSchemas';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const kinds = Object.keys(CONFIG_SCHEMA_KINDS) as ConfigSchemaKind[];

function configFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return configFiles(full);
    return /\.ya?ml$/.test(entry.name) ? [full] : [];
  });
}

/** Which zod schema accepts the file; exactly one must. */
function kindsAccepting(data: unknown): ConfigSchemaKind[] {
  return kinds.filter((kind) => CONFIG_SCHEMA_KINDS[kind].schema.safeParse(data).success);
}

describe('published config schemas', () => {
  it.each(kinds)('schema/%s config schema is what the zod schema emits now (run `npm run schema` after changing it)', (kind) => {
    const shipped = readFileSync(path.join(root, CONFIG_SCHEMA_DIR, CONFIG_SCHEMA_KINDS[kind].file), 'utf8');
    expect(shipped).toBe(renderConfigJsonSchema(kind));
  });

  it('describes what a person writes: defaulted keys are optional, unknown keys are refused', () => {
    const run = configJsonSchema('run') as { required: string[]; additionalProperties: boolean; properties: Record<string, { description?: string }> };
    expect(run.required.sort()).toEqual(['guidance', 'mission', 'model', 'run_name', 'stage_a_paths']);
    expect(run.additionalProperties).toBe(false);
    expect(run.properties.seed.description).toMatch(/seed/i);
  });

  it.each(kinds)('%s: nullable keys are anyOf [T, null], never type [T, "null"] (which breaks yaml-language-server completion)', (kind) => {
    const typeArrays: unknown[] = [];
    const walk = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      if (Array.isArray((node as { type?: unknown }).type)) typeArrays.push(node);
      Object.values(node).forEach(walk);
    };
    walk(configJsonSchema(kind));
    expect(typeArrays).toEqual([]);
    const outputPath = (configJsonSchema('run') as any).properties.stage_b_distillation.properties.output_path;
    expect(outputPath).toEqual({ default: null, description: expect.any(String), anyOf: [{ type: 'string' }, { type: 'null' }] });
  });

  const files = configFiles(path.join(root, 'configs'));
  it('finds the repository configs', () => expect(files.length).toBeGreaterThanOrEqual(5));

  it.each(files.map((f) => [path.relative(root, f), f]))('%s names the schema of its kind on a yaml-language-server line', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const accepted = kindsAccepting(parse(text));
    expect(accepted).toHaveLength(1);
    const modeline = schemaModelineOf(text);
    expect(modeline, 'no `# yaml-language-server: $schema=...` line').not.toBeNull();
    const target = path.resolve(path.dirname(file), modeline!);
    expect(path.relative(root, target)).toBe(path.join(CONFIG_SCHEMA_DIR, CONFIG_SCHEMA_KINDS[accepted[0]].file));
  });

  it('reads the modeline the way yaml-language-server does', () => {
    expect(schemaModelineOf('# yaml-language-server: $schema=../schema/a.json\nx: 1')).toBe('../schema/a.json');
    expect(schemaModelineOf('x: 1\n#  $schema: ./b.json')).toBe('./b.json');
    expect(schemaModelineOf('# a comment naming $schema=nothing\nx: 1')).toBeNull();
  });
});
