import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { COLUMN_NAMES, RowColumns, StringDictionary, type ColumnArray, type ColumnName } from '../RowColumns';
import { TextColumn } from '../TextColumn';

/**
 * The persisted line index of one JSONL file, so a new server process opens a
 * 500k-row run in milliseconds instead of re-reading 400 MB.
 *
 * Where: `<dir of the file>/.workbench-index/<file name>.idx` — inside the run's
 * mission directory (so never outside the configured runs root), in a dot folder
 * the run listing skips. Written atomically (temp file + rename).
 *
 * Trust: the sidecar covers a prefix of the file (`covered` bytes, ending after a
 * newline). It is used only when the file still starts with that prefix — same
 * SHA-1 of the prefix's first and last 64 KiB — and, when the file size equals the
 * size at save time, the same mtime; a longer file is an append and the index is
 * extended from `covered`. Anything else (other magic or version, CRC mismatch,
 * sections out of bounds, columns that are not well-formed) is rejected and the
 * index rebuilt from the file: a corrupt or foreign sidecar is never trusted.
 */

const MAGIC = Buffer.from('SBWIDX\0\x01', 'latin1');
const VERSION = 1;
const EDGE_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export type InvalidLineEntry = { line: number; message: string };

/** What a line index needs to resume: its columns, text, and reading position. */
export type IndexSnapshot = {
  coveredBytes: number;
  nextLineNo: number;
  invalidCount: number;
  invalidLines: InvalidLineEntry[];
  columns: RowColumns;
  text: TextColumn;
};

type Section = { offset: number; length: number };

type SidecarHeader = {
  version: number;
  covered: { bytes: number; head: string; tail: string };
  file: { size: number; mtimeMs: number };
  rows: number;
  nextLineNo: number;
  invalidCount: number;
  invalidLines: InvalidLineEntry[];
  groupIds: (string | null)[];
  ineligibleReasons: (string | null)[];
  columns: Record<string, Section>;
  text: { bytes: Section; rowStarts: Section }[];
  body: { length: number; crc: number };
};

export type SidecarLoad = { snapshot: IndexSnapshot } | { rejected: string };

export function sidecarPathOf(file: string): string {
  return path.join(path.dirname(file), '.workbench-index', `${path.basename(file)}.idx`);
}

async function edgeHashes(file: string, covered: number): Promise<{ head: string; tail: string }> {
  const handle = await open(file, 'r');
  try {
    const read = async (start: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, start);
      return createHash('sha1').update(buffer.subarray(0, bytesRead)).digest('hex');
    };
    const headLength = Math.min(EDGE_BYTES, covered);
    const tailStart = Math.max(0, covered - EDGE_BYTES);
    return { head: await read(0, headLength), tail: await read(tailStart, covered - tailStart) };
  } finally {
    await handle.close();
  }
}

const pad8 = (n: number) => (n + 7) & ~7;

/** Writes the sidecar for `file` (atomic). `fileInfo` is the stat taken when the snapshot's bytes were read. */
export async function saveIndexSidecar(file: string, snapshot: IndexSnapshot, fileInfo: { size: number; mtimeMs: number }): Promise<void> {
  // Everything is taken from the snapshot before the first await: the index keeps growing meanwhile.
  const parts: Uint8Array[] = [];
  let bodyLength = 0;
  const place = (bytes: Uint8Array): Section => {
    const section = { offset: bodyLength, length: bytes.byteLength };
    parts.push(bytes);
    const padded = pad8(bytes.byteLength);
    if (padded > bytes.byteLength) parts.push(new Uint8Array(padded - bytes.byteLength));
    bodyLength += padded;
    return section;
  };
  const asBytes = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const views = snapshot.columns.columnViews();
  const columns: Record<string, Section> = {};
  for (const name of COLUMN_NAMES) columns[name] = place(asBytes(views[name]));
  const text = snapshot.text.snapshot().map((chunk) => ({ bytes: place(chunk.bytes), rowStarts: place(asBytes(chunk.rowStarts)) }));
  const groupIds = [...snapshot.columns.groupIds.values];
  const ineligibleReasons = [...snapshot.columns.ineligibleReasons.values];
  const rows = snapshot.columns.length;
  let crc = 0;
  for (const part of parts) crc = crc32(part, crc);
  const target = sidecarPathOf(file);
  await mkdir(path.dirname(target), { recursive: true });
  const header: SidecarHeader = {
    version: VERSION,
    covered: { bytes: snapshot.coveredBytes, ...(await edgeHashes(file, snapshot.coveredBytes)) },
    file: { size: fileInfo.size, mtimeMs: fileInfo.mtimeMs },
    rows,
    nextLineNo: snapshot.nextLineNo,
    invalidCount: snapshot.invalidCount,
    invalidLines: snapshot.invalidLines,
    groupIds,
    ineligibleReasons,
    columns,
    text,
    body: { length: bodyLength, crc },
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(pad8(MAGIC.length + 4 + headerBytes.length));
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(headerBytes.length, MAGIC.length);
  headerBytes.copy(prefix, MAGIC.length + 4);
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.write(prefix);
    for (const part of parts) if (part.byteLength > 0) await handle.write(part);
    await handle.close();
    await rename(temp, target);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}

function isSection(value: unknown, bodyLength: number): value is Section {
  const section = value as Section;
  return (
    !!section &&
    Number.isSafeInteger(section.offset) &&
    Number.isSafeInteger(section.length) &&
    section.offset >= 0 &&
    section.length >= 0 &&
    section.offset % 8 === 0 &&
    section.offset + section.length <= bodyLength
  );
}

const COLUMN_TYPES: Record<ColumnName, new (buffer: ArrayBuffer, offset: number, length: number) => ColumnArray> = {
  offset: Float64Array,
  byteLength: Uint32Array,
  lineNo: Uint32Array,
  epoch: Int32Array,
  batchIndex: Int32Array,
  candidate: Int32Array,
  guidanceStep: Int32Array,
  label: Uint8Array,
  verdict: Uint8Array,
  labelMatch: Uint8Array,
  eligible: Uint8Array,
  confidence: Float32Array,
  selfConsistency: Float32Array,
  warnings: Uint16Array,
  flags: Uint8Array,
  ineligibleReason: Uint32Array,
  groupId: Uint32Array,
};

/** Row-level consistency the index relies on (line positions inside the covered bytes, ids inside the dictionaries). */
function checkColumns(columns: RowColumns, coveredBytes: number, nextLineNo: number): string | null {
  let previousEnd = 0;
  let previousLine = 0;
  const groups = columns.groupIds.values.length;
  const reasons = columns.ineligibleReasons.values.length;
  for (let i = 0; i < columns.length; i += 1) {
    const offset = columns.offset[i];
    if (!Number.isSafeInteger(offset) || offset < previousEnd || offset + columns.byteLength[i] > coveredBytes) return `row ${i}: line position out of order or past the covered bytes`;
    previousEnd = offset + columns.byteLength[i];
    if (columns.lineNo[i] <= previousLine || columns.lineNo[i] >= nextLineNo) return `row ${i}: line number out of order`;
    previousLine = columns.lineNo[i];
    if (columns.groupId[i] === 0 || columns.groupId[i] >= groups || columns.ineligibleReason[i] >= reasons) return `row ${i}: dictionary id out of range`;
  }
  return null;
}

/** The sidecar of `file` when it matches the file as it is now; otherwise why not. */
export async function loadIndexSidecar(file: string, current: { size: number; mtimeMs: number }): Promise<SidecarLoad> {
  const source = sidecarPathOf(file);
  let data: Buffer;
  try {
    const info = await stat(source);
    if (!info.isFile()) return { rejected: 'not a file' };
    data = await readFile(source);
  } catch (error) {
    return { rejected: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : `unreadable: ${(error as Error).message}` };
  }
  try {
    if (data.length < MAGIC.length + 4 || !data.subarray(0, MAGIC.length).equals(MAGIC)) return { rejected: 'not an index sidecar (magic)' };
    const headerLength = data.readUInt32LE(MAGIC.length);
    if (headerLength > MAX_HEADER_BYTES || MAGIC.length + 4 + headerLength > data.length) return { rejected: 'header out of bounds' };
    const header = JSON.parse(data.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headerLength)) as SidecarHeader;
    if (header.version !== VERSION) return { rejected: `version ${String(header.version)}` };
    const bodyStart = pad8(MAGIC.length + 4 + headerLength);
    const bodyLength = header.body?.length;
    if (!Number.isSafeInteger(bodyLength) || bodyStart + bodyLength !== data.length) return { rejected: 'body length mismatch' };
    // Typed-array views need an 8-byte aligned start.
    let body = data.subarray(bodyStart);
    if (body.byteOffset % 8 !== 0) body = Buffer.from(body);
    if (crc32(body) !== header.body.crc) return { rejected: 'checksum mismatch' };
    const covered = header.covered;
    if (!covered || !Number.isSafeInteger(covered.bytes) || covered.bytes < 0) return { rejected: 'bad covered range' };
    if (current.size < covered.bytes) return { rejected: 'file is shorter than the indexed prefix' };
    if (current.size === header.file.size && current.mtimeMs !== header.file.mtimeMs) return { rejected: 'file rewritten (same size, new mtime)' };
    if (current.size < header.file.size) return { rejected: 'file shrank' };
    const hashes = await edgeHashes(file, covered.bytes);
    if (hashes.head !== covered.head || hashes.tail !== covered.tail) return { rejected: 'file content differs from the indexed prefix' };
    const rows = header.rows;
    if (!Number.isSafeInteger(rows) || rows < 0) return { rejected: 'bad row count' };
    const views = {} as Record<ColumnName, ColumnArray>;
    for (const name of COLUMN_NAMES) {
      const section = header.columns?.[name];
      const Type = COLUMN_TYPES[name];
      const width = (Type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (!isSection(section, bodyLength) || section.length !== rows * width) return { rejected: `column ${name} out of bounds` };
      views[name] = new Type(body.buffer as ArrayBuffer, body.byteOffset + section.offset, rows);
    }
    const columns = RowColumns.fromColumns(rows, views, StringDictionary.fromValues(header.groupIds), StringDictionary.fromValues(header.ineligibleReasons));
    const problem = checkColumns(columns, covered.bytes, header.nextLineNo);
    if (problem) return { rejected: problem };
    if (!Array.isArray(header.text)) return { rejected: 'text chunks missing' };
    const chunks = header.text.map((chunk) => {
      if (!isSection(chunk.bytes, bodyLength) || !isSection(chunk.rowStarts, bodyLength) || chunk.rowStarts.length % 4 !== 0) throw new Error('text chunk out of bounds');
      return {
        bytes: body.subarray(chunk.bytes.offset, chunk.bytes.offset + chunk.bytes.length),
        rowStarts: new Uint32Array(body.buffer as ArrayBuffer, body.byteOffset + chunk.rowStarts.offset, chunk.rowStarts.length / 4),
      };
    });
    const text = TextColumn.restore(chunks);
    if (text.length !== rows) return { rejected: 'text rows do not match the columns' };
    const invalidLines = Array.isArray(header.invalidLines) ? header.invalidLines : [];
    return { snapshot: { coveredBytes: covered.bytes, nextLineNo: header.nextLineNo, invalidCount: header.invalidCount, invalidLines, columns, text } };
  } catch (error) {
    return { rejected: `malformed: ${(error as Error).message}` };
  }
}
