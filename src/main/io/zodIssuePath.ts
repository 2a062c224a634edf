import type { z } from 'zod';

/**
 * Renders a zod issue path the way people read field names in messages:
 * `per_image.image_2`, `sampler.grid[1].top_p`.
 */
export function zodIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** The first issue of a zod error as `{ field, message }`, with unknown keys named in the field. */
export function firstZodIssue(error: z.ZodError): { field: string; message: string; path: PropertyKey[] } {
  const issue = error.issues[0];
  if (!issue) return { field: '', message: error.message, path: [] };
  return describeZodIssue(issue);
}

export function describeZodIssue(issue: z.core.$ZodIssue): { field: string; message: string; path: PropertyKey[] } {
  const path = [...issue.path];
  // For unrecognized keys zod reports the parent; naming the key itself is what helps.
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
    path.push(issue.keys[0]);
    return { field: zodIssuePath(path), message: `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`, path };
  }
  // Record key failures carry the useful message (the key's own rule) one level down.
  if (issue.code === 'invalid_key' && issue.issues.length > 0) {
    return { field: zodIssuePath(path), message: issue.issues[0].message, path };
  }
  return { field: zodIssuePath(path), message: issue.message, path };
}
