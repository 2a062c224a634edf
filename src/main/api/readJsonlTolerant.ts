import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { StageBError } from '../../shared/errors';

export type TolerantRows<T> = { rows: { line: number; record: T }[]; invalid: { line: number; message: string }[] };

/**
 * Reads a small JSONL file for display: bad lines are reported, not thrown, so
 * one broken row never hides the rest of a run from a reviewer. A missing file
 * reads as empty. (The big files go through JsonlLineIndex instead.)
 */
export async function readJsonlTolerant<T>(file: string, schema: z.ZodType<T>): Promise<TolerantRows<T>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { rows: [], invalid: [] };
    throw new StageBError('IO_READ_FAILED', `cannot read ${file}: ${(error as Error).message}`, { file });
  }
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  const rows: TolerantRows<T>['rows'] = [];
  const invalid: TolerantRows<T>['invalid'] = [];
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const isTornTail = index === lines.length - 1 && !endsWithNewline;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      if (!isTornTail) invalid.push({ line: index + 1, message: `malformed JSON: ${(error as Error).message}` });
      return;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) rows.push({ line: index + 1, record: parsed.data });
    else {
      const issue = parsed.error.issues[0];
      invalid.push({ line: index + 1, message: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
    }
  });
  return { rows, invalid };
}

export { readJsonFile } from '../io/readJsonFile';
