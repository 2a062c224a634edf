import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { StageBError } from '../../shared/errors';
import { decodeUtf8Strict } from './utf8';

/**
 * A file's text; null when it does not exist, INPUT_INVALID_UTF8 (file, line, byte offset)
 * for bytes that are not UTF-8, IO_READ_FAILED for any other read error.
 */
export async function readTextIfPresent(file: string): Promise<string | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StageBError('IO_READ_FAILED', `cannot read ${file}: ${(error as Error).message}`, { file });
  }
  return decodeUtf8Strict(bytes, file, 'INPUT_INVALID_UTF8');
}

/** Reads a JSON file and validates it; null when missing. */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>): Promise<T | null> {
  const text = await readTextIfPresent(file);
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StageBError('INPUT_MALFORMED_JSON', `malformed JSON: ${(error as Error).message}`, { file });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StageBError('INPUT_INVALID_FIELD', issue.message, { file, field: issue.path.join('.') || undefined });
  }
  return parsed.data;
}
