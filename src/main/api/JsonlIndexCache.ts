import type { z } from 'zod';
import { JsonlLineIndex } from './JsonlLineIndex';

/**
 * Keeps the line indexes of recently used files, least recently used evicted
 * first, so a reviewer hopping between runs does not pile up memory.
 */
export class JsonlIndexCache {
  private readonly entries = new Map<string, JsonlLineIndex<unknown>>();

  constructor(private readonly maxFiles = 6) {}

  /** The up-to-date index of `file` (built on first use, extended when the file grew). */
  async get<T>(file: string, schema: z.ZodType<T>): Promise<JsonlLineIndex<T>> {
    let index = this.entries.get(file) as JsonlLineIndex<T> | undefined;
    if (index) {
      this.entries.delete(file);
    } else {
      index = new JsonlLineIndex(file, schema);
    }
    this.entries.set(file, index as JsonlLineIndex<unknown>);
    while (this.entries.size > this.maxFiles) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    await index.refresh();
    return index;
  }
}
