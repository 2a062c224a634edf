/**
 * `npm run schema`: writes schema/*.schema.json from the zod config schemas
 * (src/shared/schemas/configJsonSchemas.ts). `--check` writes nothing and exits 1
 * when a shipped file is out of date (the same comparison the schema-sync test makes).
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CONFIG_SCHEMA_DIR, CONFIG_SCHEMA_KINDS, renderConfigJsonSchema, type ConfigSchemaKind } from '../src/shared/schemas/configJsonSchemas';

const root = path.resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');
let stale = 0;
await mkdir(path.join(root, CONFIG_SCHEMA_DIR), { recursive: true });
for (const kind of Object.keys(CONFIG_SCHEMA_KINDS) as ConfigSchemaKind[]) {
  const file = path.join(root, CONFIG_SCHEMA_DIR, CONFIG_SCHEMA_KINDS[kind].file);
  const text = renderConfigJsonSchema(kind);
  const current = await readFile(file, 'utf8').catch(() => null);
  const relative = path.relative(root, file);
  if (current === text) {
    console.log(`${relative}: up to date`);
  } else if (check) {
    stale += 1;
    console.error(`${relative}: out of date (run npm run schema)`);
  } else {
    await writeFile(file, text);
    console.log(`${relative}: written`);
  }
}
process.exitCode = stale ? 1 : 0;
