import { z } from 'zod';

export type ConfigKeyDoc = { path: string; description: string };

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  // Defaults, optionals and nullables wrap the object whose keys we want to list.
  for (let i = 0; i < 10; i++) {
    const def = (current as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
    if ((def.type === 'default' || def.type === 'optional' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) current = def.innerType;
    else break;
  }
  return current;
}

/**
 * Every key of a config schema with its description, flattened to dotted paths
 * (discriminated unions contribute the keys of every branch). The README's
 * config table is checked against this list.
 */
export function listConfigKeys(schema: z.ZodType, prefix = ''): ConfigKeyDoc[] {
  const inner = unwrap(schema);
  const def = (inner as unknown as { def: { type: string; options?: z.ZodType[]; element?: z.ZodType } }).def;
  if (def.type === 'object') {
    const shape = (inner as z.ZodObject).shape as Record<string, z.ZodType>;
    const out: ConfigKeyDoc[] = [];
    for (const [key, child] of Object.entries(shape)) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.push({ path, description: child.description ?? unwrap(child).description ?? '' });
      out.push(...listConfigKeys(child, path));
    }
    return out;
  }
  if (def.type === 'union' && def.options) {
    const seen = new Map<string, ConfigKeyDoc>();
    for (const option of def.options) for (const entry of listConfigKeys(option, prefix)) if (!seen.has(entry.path)) seen.set(entry.path, entry);
    return [...seen.values()];
  }
  if (def.type === 'array' && def.element) return listConfigKeys(def.element, `${prefix}[]`);
  return [];
}
