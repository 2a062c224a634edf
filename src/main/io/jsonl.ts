import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { z } from 'zod';
import { StageBError, type ErrorCode } from '../../shared/errors';
import { describeZodIssue } from './zodIssuePath';
import { holdTempPath, tempPathFor } from './tempFiles';
import { describeInvalidUtf8, locateInvalidUtf8, type InvalidUtf8 } from './utf8';

/**
 * JSONL and JSON files as the run directory needs them: streamed reads that name
 * file/line/field on every bad line, appends that survive a crash mid-write, and
 * atomic replaces (tmp + fsync + rename + dir fsync).
 */

/** The one fs entry point the writers use, so tests can inject a real failure (ENOSPC) without mocking modules. */
export type JsonlFileIo = { open: typeof fsp.open };
const defaultIo: JsonlFileIo = { open: fsp.open };

export type JsonlLine = {
  /** 1-based line number. */
  line: number;
  text: string;
  /** false only for a final line that has no trailing newline. */
  terminated: boolean;
  bytes: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /** The first byte that is not valid UTF-8 (the text then holds U+FFFD there); null for a valid line. */
  invalidUtf8: InvalidUtf8 | null;
};

export type TornTail = { line: number; bytes: number };

export type ReadJsonlOptions = {
  /** A final unterminated line that is not valid JSON is a crash artifact, not an error. Default true. */
  tolerateTornTail?: boolean;
  /** Return no rows instead of failing when the file does not exist. Default false. */
  missingOk?: boolean;
  /** Code for a missing file. Default INPUT_NOT_FOUND. */
  missingCode?: ErrorCode;
  /** Stop collecting line errors after this many (the first is thrown, all collected go in details). Default 20. */
  maxErrors?: number;
};

export type JsonlLineError = { code: ErrorCode; message: string; file: string; line: number; field?: string };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

function decodeLine(bytes: Buffer, lineNumber: number, offset: number): { text: string; invalidUtf8: InvalidUtf8 | null } {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === CARRIAGE_RETURN) end -= 1;
  const body = bytes.subarray(0, end);
  let text = body.toString('utf8');
  if (lineNumber === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text, invalidUtf8: locateInvalidUtf8(body, lineNumber, offset) };
}

function readErrorFor(error: unknown, file: string, missingCode: ErrorCode): StageBError {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOENT') return new StageBError(missingCode, 'file not found', { file });
  const reason = error instanceof Error ? error.message : String(error);
  return new StageBError('IO_READ_FAILED', `cannot read the file: ${reason}`, { file });
}

/** Streams the lines of a file (blank lines included) with their 1-based numbers. */
export async function* readJsonlLines(file: string, options: { missingCode?: ErrorCode } = {}): AsyncGenerator<JsonlLine> {
  const missingCode = options.missingCode ?? 'INPUT_NOT_FOUND';
  let stream: ReturnType<typeof createReadStream>;
  try {
    const stat = await fsp.stat(file);
    if (stat.isDirectory()) throw new StageBError('IO_READ_FAILED', 'expected a file but found a directory', { file });
    stream = createReadStream(file);
  } catch (error) {
    if (error instanceof StageBError) throw error;
    throw readErrorFor(error, file, missingCode);
  }
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNumber = 0;
  let offset = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, start)) {
        const piece = chunk.subarray(start, i);
        const bytes = pending.length ? Buffer.concat([...pending, piece]) : piece;
        pending = [];
        pendingBytes = 0;
        lineNumber += 1;
        yield { line: lineNumber, ...decodeLine(bytes, lineNumber, offset), terminated: true, bytes: bytes.length + 1, offset };
        offset += bytes.length + 1;
        start = i + 1;
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        pending.push(rest);
        pendingBytes += rest.length;
      }
    }
  } catch (error) {
    if (error instanceof StageBError) throw error;
    throw readErrorFor(error, file, missingCode);
  } finally {
    stream.destroy();
  }
  if (pendingBytes > 0) {
    const bytes = Buffer.concat(pending);
    lineNumber += 1;
    yield { line: lineNumber, ...decodeLine(bytes, lineNumber, offset), terminated: false, bytes: bytes.length, offset };
  }
}

/**
 * Reads and validates every row. Every malformed line is collected (up to
 * maxErrors); the first is thrown as a StageBError naming file, line and field,
 * with all collected errors in `details`.
 */
export async function readJsonl<T>(
  file: string,
  schema: z.ZodType<T>,
  options: ReadJsonlOptions = {},
): Promise<{ rows: T[]; tornTail: TornTail | null }> {
  const tolerateTornTail = options.tolerateTornTail ?? true;
  const maxErrors = options.maxErrors ?? 20;
  const rows: T[] = [];
  const errors: JsonlLineError[] = [];
  let tornTail: TornTail | null = null;
  try {
    for await (const line of readJsonlLines(file, { missingCode: options.missingCode })) {
      if (line.invalidUtf8) {
        // A crash mid-append can cut a multi-byte character: that is a torn tail like any other.
        if (!line.terminated && tolerateTornTail) {
          tornTail = { line: line.line, bytes: line.bytes };
          continue;
        }
        if (errors.length < maxErrors) errors.push({ code: 'INPUT_INVALID_UTF8', message: describeInvalidUtf8(line.invalidUtf8), file, line: line.line });
        continue;
      }
      if (line.text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch (error) {
        if (!line.terminated && tolerateTornTail) {
          tornTail = { line: line.line, bytes: line.bytes };
          continue;
        }
        if (errors.length < maxErrors) {
          const reason = error instanceof Error ? error.message : String(error);
          errors.push({ code: 'INPUT_MALFORMED_JSON', message: `not valid JSON: ${reason}`, file, line: line.line });
        }
        continue;
      }
      const parsed = schema.safeParse(value);
      if (parsed.success) {
        rows.push(parsed.data);
      } else if (errors.length < maxErrors) {
        const issue = describeZodIssue(parsed.error.issues[0]);
        errors.push({
          code: 'INPUT_INVALID_FIELD',
          message: issue.message,
          file,
          line: line.line,
          field: issue.field || undefined,
        });
      }
    }
  } catch (error) {
    if (options.missingOk && error instanceof StageBError && error.code === (options.missingCode ?? 'INPUT_NOT_FOUND')) {
      return { rows: [], tornTail: null };
    }
    throw error;
  }
  if (errors.length > 0) {
    const first = errors[0];
    const more = errors.length > 1 ? ` (${errors.length - 1} more error${errors.length > 2 ? 's' : ''} in details)` : '';
    throw new StageBError(first.code, first.message + more, { file: first.file, line: first.line, field: first.field }, errors);
  }
  return { rows, tornTail };
}

function writeError(error: unknown, file: string): StageBError {
  if (error instanceof StageBError) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  const hint =
    errno === 'ENOSPC' ? ' (disk full)' : errno === 'EACCES' || errno === 'EPERM' ? ' (permission denied)' : errno === 'EROFS' ? ' (read-only file system)' : '';
  return new StageBError('IO_WRITE_FAILED', `write failed${hint}: ${reason}`, { file });
}

async function writeAll(handle: fsp.FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    if (bytesWritten <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    offset += bytesWritten;
  }
}

/** Best effort: makes a rename or a file creation durable. Some platforms cannot fsync a directory. */
async function fsyncDir(dir: string, io: JsonlFileIo): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await io.open(dir, 'r');
    await handle.sync();
  } catch {
    // Directory fsync is unsupported on some systems (Windows); the data itself is synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** The bytes a JSONL writer of this module writes for `rows`. */
export function serializeJsonlRows(rows: readonly unknown[]): string {
  let out = '';
  for (const row of rows) {
    const text = JSON.stringify(row);
    if (text === undefined) throw new StageBError('INTERNAL', 'cannot serialise undefined as a JSONL row');
    out += text + '\n';
  }
  return out;
}

/**
 * Where an append must start. A final line without a newline is either a row
 * written by hand without one (kept, a newline is added) or the torn tail of a
 * crash mid-append (never a complete row, so it is cut off).
 */
async function prepareTail(handle: fsp.FileHandle): Promise<{ truncateTo: number | null; needsNewline: boolean; tornBytes: number }> {
  const { size } = await handle.stat();
  if (size === 0) return { truncateTo: null, needsNewline: false, tornBytes: 0 };
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  if (last[0] === NEWLINE) return { truncateTo: null, needsNewline: false, tornBytes: 0 };
  // Walk back to the previous newline in chunks; a row can be long.
  const chunkSize = 64 * 1024;
  let end = size;
  let lineStart = 0;
  const pieces: Buffer[] = [];
  while (end > 0) {
    const start = Math.max(0, end - chunkSize);
    const buffer = Buffer.alloc(end - start);
    await handle.read(buffer, 0, buffer.length, start);
    const index = buffer.lastIndexOf(NEWLINE);
    if (index !== -1) {
      pieces.unshift(buffer.subarray(index + 1));
      lineStart = start + index + 1;
      break;
    }
    pieces.unshift(buffer);
    end = start;
  }
  const tail = Buffer.concat(pieces).toString('utf8').replace(/\r$/, '');
  try {
    JSON.parse(tail);
    return { truncateTo: null, needsNewline: true, tornBytes: 0 };
  } catch {
    if (tail.trim() === '') return { truncateTo: null, needsNewline: true, tornBytes: 0 };
    return { truncateTo: lineStart, needsNewline: false, tornBytes: size - lineStart };
  }
}

export type AppendJsonlResult = { appended: number; truncatedTornTailBytes: number };

/** Appends rows, one per line, with a single write and an fsync. Creates the file (and its folder) if needed. */
export async function appendJsonl(file: string, rows: readonly unknown[], io: JsonlFileIo = defaultIo): Promise<AppendJsonlResult> {
  const payload = serializeJsonlRows(rows);
  let handle: fsp.FileHandle | undefined;
  let created = false;
  /** File size before this append wrote anything; a failed append is cut back to it. */
  let restoreTo: number | null = null;
  try {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    try {
      handle = await io.open(file, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      handle = await io.open(file, 'a+');
      created = true;
    }
    const tail = await prepareTail(handle);
    if (tail.truncateTo !== null) await handle.truncate(tail.truncateTo);
    if (rows.length > 0 || tail.truncateTo !== null || tail.needsNewline) {
      const { size } = await handle.stat();
      restoreTo = size;
      const data = Buffer.from((tail.needsNewline ? '\n' : '') + payload, 'utf8');
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await handle.write(data, offset, data.length - offset, size + offset);
        if (bytesWritten <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
        offset += bytesWritten;
      }
      await handle.sync();
    }
    await handle.close();
    handle = undefined;
    if (created) await fsyncDir(path.dirname(file), io);
    return { appended: rows.length, truncatedTornTailBytes: tail.tornBytes };
  } catch (error) {
    // A write that failed part-way (ENOSPC after some blocks) must not leave half a row.
    if (handle && restoreTo !== null) await handle.truncate(restoreTo).catch(() => undefined);
    throw writeError(error, file);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Where an atomic write of `file` lands: the file itself, or — when `file` is a symlink —
 * the file it points to (a rename would replace the link with a regular file). A symlink
 * loop or a link to nothing is refused with IO_WRITE_FAILED naming the path.
 */
async function resolveWriteTarget(file: string): Promise<string> {
  const link = await fsp.lstat(file).catch(() => null);
  if (!link?.isSymbolicLink()) return file;
  try {
    return await fsp.realpath(file);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    const why = errno === 'ELOOP' ? 'is a symlink loop' : errno === 'ENOENT' ? 'is a symlink to nothing' : `is a symlink that cannot be followed (${errno ?? String(error)})`;
    throw new StageBError('IO_WRITE_FAILED', `cannot write ${file}: it ${why}`, { file });
  }
}

/** `mkdir -p` for a writer: a path that cannot be a folder (a file, a symlink loop) is IO_WRITE_FAILED naming it. */
export async function mkdirForWrite(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    const why =
      errno === 'EEXIST' || errno === 'ENOTDIR' ? 'a file is in the way of this folder' : errno === 'ELOOP' ? 'the path is a symlink loop' : (error as Error).message;
    throw new StageBError('IO_WRITE_FAILED', `cannot create the folder ${dir}: ${why}`, { file: dir }, { errno: errno ?? null });
  }
}

/** Replaces a file atomically: a tmp file in the same folder, fsync, rename, folder fsync. */
export async function writeFileAtomic(requested: string, content: string | Buffer, io: JsonlFileIo = defaultIo): Promise<void> {
  const file = await resolveWriteTarget(requested);
  const dir = path.dirname(file);
  const tmp = tempPathFor(file);
  const hold = holdTempPath(tmp);
  let handle: fsp.FileHandle | undefined;
  let tmpCreated = false;
  try {
    await fsp.mkdir(dir, { recursive: true });
    handle = await io.open(tmp, 'wx');
    tmpCreated = true;
    await writeAll(handle, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, file);
    tmpCreated = false;
    await fsyncDir(dir, io);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    if (tmpCreated) await fsp.unlink(tmp).catch(() => undefined);
    throw writeError(error, file);
  } finally {
    hold.release();
  }
}

export async function writeJsonlAtomic(file: string, rows: readonly unknown[], io: JsonlFileIo = defaultIo): Promise<void> {
  await writeFileAtomic(file, serializeJsonlRows(rows), io);
}

/** Pretty-printed (2 spaces) with a trailing newline: these files are read and edited by people. */
export async function writeJsonAtomic(file: string, value: unknown, io: JsonlFileIo = defaultIo): Promise<void> {
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) throw new StageBError('INTERNAL', `cannot serialise undefined as JSON for ${file}`, { file });
  await writeFileAtomic(file, text + '\n', io);
}

export type LenientRows<T> = { rows: { line: number; record: T }[]; invalid: { line: number; message: string }[]; tornTail: TornTail | null };

/**
 * The run directory's lenient reader, for display: a bad line (invalid UTF-8, not JSON,
 * not the schema) is reported with its number, not thrown, so one broken row never hides
 * the rest of a run from a reviewer; a torn last row is a crash artifact and reported as
 * such. A missing file reads as empty. (The big files go through JsonlLineIndex.)
 */
export async function readJsonlLenient<T>(file: string, schema: z.ZodType<T>): Promise<LenientRows<T>> {
  const result: LenientRows<T> = { rows: [], invalid: [], tornTail: null };
  try {
    for await (const line of readJsonlLines(file, { missingCode: 'INPUT_NOT_FOUND' })) {
      if (line.text.trim() === '') continue;
      if (!line.terminated && (line.invalidUtf8 || !isJson(line.text))) {
        result.tornTail = { line: line.line, bytes: line.bytes };
        continue;
      }
      if (line.invalidUtf8) {
        result.invalid.push({ line: line.line, message: describeInvalidUtf8(line.invalidUtf8) });
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch (error) {
        result.invalid.push({ line: line.line, message: `malformed JSON: ${(error as Error).message}` });
        continue;
      }
      const parsed = schema.safeParse(value);
      if (parsed.success) result.rows.push({ line: line.line, record: parsed.data });
      else {
        const issue = parsed.error.issues[0];
        result.invalid.push({ line: line.line, message: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
      }
    }
  } catch (error) {
    if (error instanceof StageBError && error.code === 'INPUT_NOT_FOUND') return result;
    throw error;
  }
  return result;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A new JSONL file from rows of any length, streamed in chunks through appendJsonl (fsync, torn-tail rules):
 * for generated inputs and fixtures too large for one array (the workbench bench writes 500k rows). Not
 * atomic: a reader may see the file grow; run artifacts go through their owners instead.
 */
export async function writeJsonlRows(file: string, rows: Iterable<unknown>, chunkSize = 5000): Promise<number> {
  await mkdirForWrite(path.dirname(file));
  await fsp.rm(file, { force: true });
  let count = 0;
  let chunk: unknown[] = [];
  for (const row of rows) {
    chunk.push(row);
    if (chunk.length === chunkSize) {
      count += (await appendJsonl(file, chunk)).appended;
      chunk = [];
    }
  }
  if (chunk.length > 0) count += (await appendJsonl(file, chunk)).appended;
  return count;
}
