import { open } from 'node:fs/promises';
import { StageBError } from '../../../shared/errors';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_SCALAR_SIZE,
  GgufValueType,
  GGML_BLOCK_LAYOUT,
  alignUp,
  ggmlTensorBytes,
} from './ggufFormat';
import type { GgufMetadataValue, GgufScalar, GgufScalarType } from './ggufWriter';

/**
 * Reads and checks a GGUF header before node-llama-cpp sees the file: llama.cpp
 * aborts the whole process on some malformed files, so anything we can detect
 * up front becomes a typed MODEL_INVALID_GGUF instead. Every count in the file
 * is checked against the bytes left before anything is allocated for it.
 */
export type GgufTensorInfo = { name: string; dims: number[]; type: number; offset: bigint };

export type GgufHeader = {
  version: number;
  metadata: Map<string, GgufMetadataValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute file offset where tensor data begins. */
  dataOffset: bigint;
  fileSize: bigint;
};

/** Header bytes we are willing to read; real models' headers (vocab + merges) are tens of MB. */
const MAX_HEADER_BYTES = 1 << 30;
const FIRST_READ_BYTES = 1 << 20;
const GGML_MAX_DIMS = 4;

class NeedMoreBytes extends Error {}

function invalid(file: string, field: string, message: string): StageBError {
  return new StageBError('MODEL_INVALID_GGUF', `${file}: ${message}`, { file, field });
}

/** Cursor over a prefix of the file; running off the prefix asks the caller for more bytes. */
class Cursor {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly fileSize: bigint,
    private readonly isWholeFile: boolean,
    private readonly file: string,
  ) {}

  private need(n: number, field: string): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.isWholeFile || BigInt(this.pos + n) > this.fileSize) throw invalid(this.file, field, `file ends inside the header (reading ${field} at byte ${this.pos})`);
    throw new NeedMoreBytes();
  }

  /** Refuses a count of items that could not fit in the rest of the file. */
  checkCount(count: bigint, minItemBytes: number, field: string): number {
    const left = this.fileSize - BigInt(this.pos);
    if (count < 0n || count * BigInt(minItemBytes) > left) {
      throw invalid(this.file, field, `${field} claims ${count} entries but only ${left} bytes remain in the file`);
    }
    return Number(count);
  }

  u8(field: string): number { this.need(1, field); return this.buf.readUInt8(this.pos++); }
  i8(field: string): number { this.need(1, field); return this.buf.readInt8(this.pos++); }
  u16(field: string): number { this.need(2, field); const v = this.buf.readUInt16LE(this.pos); this.pos += 2; return v; }
  i16(field: string): number { this.need(2, field); const v = this.buf.readInt16LE(this.pos); this.pos += 2; return v; }
  u32(field: string): number { this.need(4, field); const v = this.buf.readUInt32LE(this.pos); this.pos += 4; return v; }
  i32(field: string): number { this.need(4, field); const v = this.buf.readInt32LE(this.pos); this.pos += 4; return v; }
  f32(field: string): number { this.need(4, field); const v = this.buf.readFloatLE(this.pos); this.pos += 4; return v; }
  f64(field: string): number { this.need(8, field); const v = this.buf.readDoubleLE(this.pos); this.pos += 8; return v; }
  u64(field: string): bigint { this.need(8, field); const v = this.buf.readBigUInt64LE(this.pos); this.pos += 8; return v; }
  i64(field: string): bigint { this.need(8, field); const v = this.buf.readBigInt64LE(this.pos); this.pos += 8; return v; }
  str(field: string): string {
    const len = this.checkCount(this.u64(field), 1, field);
    this.need(len, field);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}

function readScalar(c: Cursor, type: number, field: string): GgufScalar {
  switch (type) {
    case GgufValueType.UINT8: return c.u8(field);
    case GgufValueType.INT8: return c.i8(field);
    case GgufValueType.UINT16: return c.u16(field);
    case GgufValueType.INT16: return c.i16(field);
    case GgufValueType.UINT32: return c.u32(field);
    case GgufValueType.INT32: return c.i32(field);
    case GgufValueType.FLOAT32: return c.f32(field);
    case GgufValueType.FLOAT64: return c.f64(field);
    case GgufValueType.BOOL: return c.u8(field) !== 0;
    case GgufValueType.UINT64: return c.u64(field);
    case GgufValueType.INT64: return c.i64(field);
    case GgufValueType.STRING: return c.str(field);
    default: throw new Error('unreachable');
  }
}

function isScalarType(type: number): type is GgufScalarType {
  return type === GgufValueType.STRING || GGUF_SCALAR_SIZE[type as GgufValueType] !== undefined;
}

/** Parses a GGUF header from the first bytes of a file. Throws NeedMoreBytes when `buf` is too short. */
function parse(buf: Buffer, fileSize: bigint, isWholeFile: boolean, file: string): GgufHeader {
  const c = new Cursor(buf, fileSize, isWholeFile, file);
  const magic = c.u32('magic');
  if (magic !== GGUF_MAGIC) throw invalid(file, 'magic', 'not a GGUF file (bad magic)');
  const version = c.u32('version');
  if (version !== 2 && version !== 3) throw invalid(file, 'version', `unsupported GGUF version ${version} (need 2 or 3)`);
  const tensorCount = c.checkCount(c.u64('tensor_count'), 8 + 4 + 4 + 8, 'tensor_count');
  const kvCount = c.checkCount(c.u64('kv_count'), 8 + 4 + 1, 'kv_count');
  const metadata = new Map<string, GgufMetadataValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.str(`metadata[${i}].key`);
    if (metadata.has(key)) throw invalid(file, key, `duplicate metadata key ${key}`);
    const type = c.u32(key);
    if (type === GgufValueType.ARRAY) {
      const itemType = c.u32(key);
      if (!isScalarType(itemType)) throw invalid(file, key, `array of unsupported value type ${itemType}`);
      const count = c.checkCount(c.u64(key), GGUF_SCALAR_SIZE[itemType] ?? 8, key);
      const values: GgufScalar[] = new Array(count);
      for (let j = 0; j < count; j++) values[j] = readScalar(c, itemType, key);
      metadata.set(key, { type: GgufValueType.ARRAY, itemType, value: values });
    } else if (isScalarType(type)) {
      metadata.set(key, { type, value: readScalar(c, type, key) });
    } else {
      throw invalid(file, key, `unsupported value type ${type}`);
    }
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignEntry = metadata.get('general.alignment');
  if (alignEntry) {
    const a = alignEntry.type === GgufValueType.ARRAY ? NaN : Number(alignEntry.value);
    if (!Number.isInteger(a) || a <= 0 || (a & (a - 1)) !== 0) throw invalid(file, 'general.alignment', `alignment ${String(alignEntry.value)} is not a power of two`);
    alignment = a;
  }
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.str(`tensor[${i}].name`);
    const field = `tensor:${name}`;
    if (names.has(name)) throw invalid(file, field, `duplicate tensor ${name}`);
    names.add(name);
    const nDims = c.u32(field);
    if (nDims > GGML_MAX_DIMS) throw invalid(file, field, `tensor ${name} has ${nDims} dimensions (max ${GGML_MAX_DIMS})`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const dim = c.u64(field);
      if (dim > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(file, field, `tensor ${name} dimension ${dim} is out of range`);
      dims.push(Number(dim));
    }
    const type = c.u32(field);
    const offset = c.u64(field);
    if (offset % BigInt(alignment) !== 0n) throw invalid(file, field, `tensor ${name} data offset ${offset} is not aligned to ${alignment}`);
    tensors.push({ name, dims, type, offset });
  }
  const dataOffset = alignUp(BigInt(c.pos), BigInt(alignment));
  return { version, metadata, tensors, alignment, dataOffset, fileSize };
}

/** Parses a header held in memory (the whole file, or at least its header). */
export function parseGgufHeader(bytes: Uint8Array, file = '<memory>', fileSize: bigint = BigInt(bytes.length)): GgufHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return parse(buf, fileSize, BigInt(buf.length) >= fileSize, file);
  } catch (error) {
    if (error instanceof NeedMoreBytes) throw invalid(file, 'header', 'header is longer than the bytes given');
    throw error;
  }
}

/** Reads only the header bytes of a GGUF file, growing the read window as needed (bounded). */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new StageBError('MODEL_NOT_FOUND', `model file not found: ${path}`, { file: path });
    throw new StageBError('IO_READ_FAILED', `cannot open model file ${path}: ${(error as Error).message}`, { file: path });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw invalid(path, 'file', 'not a regular file');
    const fileSize = BigInt(st.size);
    if (fileSize === 0n) throw invalid(path, 'magic', 'file is empty');
    let window = FIRST_READ_BYTES;
    for (;;) {
      const size = Number(fileSize < BigInt(window) ? fileSize : BigInt(window));
      const buf = Buffer.alloc(size);
      const { bytesRead } = await fh.read(buf, 0, size, 0);
      const whole = BigInt(bytesRead) >= fileSize;
      try {
        return parse(buf.subarray(0, bytesRead), fileSize, whole, path);
      } catch (error) {
        if (!(error instanceof NeedMoreBytes)) throw error;
        if (window >= MAX_HEADER_BYTES) throw invalid(path, 'header', `header is larger than ${MAX_HEADER_BYTES} bytes`);
        window *= 4;
      }
    }
  } finally {
    await fh.close();
  }
}

const LLAMA_LIKE_KEYS = [
  'context_length',
  'embedding_length',
  'block_count',
  'feed_forward_length',
  'attention.head_count',
  'attention.head_count_kv',
  'attention.layer_norm_rms_epsilon',
  'rope.dimension_count',
];
const GENERIC_KEYS = ['context_length', 'embedding_length', 'block_count', 'attention.head_count'];

/** Hyperparameters llama.cpp reads without a default for an architecture. */
export function requiredArchitectureKeys(architecture: string): string[] {
  const suffixes = architecture === 'llama' ? LLAMA_LIKE_KEYS : GENERIC_KEYS;
  return suffixes.map((s) => `${architecture}.${s}`);
}

const FLOAT_KEYS = new Set(['attention.layer_norm_rms_epsilon', 'attention.layer_norm_epsilon']);

function scalarOf(header: GgufHeader, key: string): GgufMetadataValue | undefined {
  return header.metadata.get(key);
}

/** Refuses a header that node-llama-cpp could not load safely. Returns the architecture name. */
export function validateGgufHeader(header: GgufHeader, path: string): string {
  const archEntry = scalarOf(header, 'general.architecture');
  if (!archEntry || archEntry.type !== GgufValueType.STRING || archEntry.value === '') {
    throw invalid(path, 'general.architecture', 'missing metadata key general.architecture');
  }
  const arch = archEntry.value as string;
  for (const key of requiredArchitectureKeys(arch)) {
    const entry = scalarOf(header, key);
    if (!entry) throw invalid(path, key, `missing metadata key ${key} (required for architecture ${arch})`);
    const isFloat = FLOAT_KEYS.has(key.slice(arch.length + 1));
    const ok = entry.type !== GgufValueType.ARRAY && entry.type !== GgufValueType.STRING && entry.type !== GgufValueType.BOOL;
    const value = ok ? Number(entry.value) : NaN;
    if (!ok || !Number.isFinite(value) || (isFloat ? value <= 0 : !Number.isInteger(value) || value <= 0)) {
      throw invalid(path, key, `metadata key ${key} must be a positive ${isFloat ? 'number' : 'integer'}`);
    }
  }
  const model = scalarOf(header, 'tokenizer.ggml.model');
  if (!model || model.type !== GgufValueType.STRING) throw invalid(path, 'tokenizer.ggml.model', 'missing metadata key tokenizer.ggml.model');
  const tokens = scalarOf(header, 'tokenizer.ggml.tokens');
  if (!tokens || tokens.type !== GgufValueType.ARRAY || tokens.itemType !== GgufValueType.STRING || tokens.value.length === 0) {
    throw invalid(path, 'tokenizer.ggml.tokens', 'missing metadata key tokenizer.ggml.tokens (a non-empty array of strings)');
  }
  if (model.value === 'gpt2') {
    const merges = scalarOf(header, 'tokenizer.ggml.merges');
    if (!merges || merges.type !== GgufValueType.ARRAY || (merges.value.length > 0 && merges.itemType !== GgufValueType.STRING)) {
      throw invalid(path, 'tokenizer.ggml.merges', 'missing metadata key tokenizer.ggml.merges (required by the gpt2 tokenizer)');
    }
  }
  const vocabSize = tokens.value.length;
  for (const idKey of ['tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id']) {
    const entry = scalarOf(header, idKey);
    if (entry && entry.type !== GgufValueType.ARRAY && entry.type !== GgufValueType.STRING) {
      const id = Number(entry.value);
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw invalid(path, idKey, `${idKey} = ${String(entry.value)} is outside the vocab of ${vocabSize}`);
    }
  }
  if (header.tensors.length === 0) throw invalid(path, 'tensor_count', 'file has no tensors');
  for (const tensor of header.tensors) {
    const field = `tensor:${tensor.name}`;
    const bytes = ggmlTensorBytes(tensor.type, tensor.dims);
    if (bytes === null && tensor.dims.length > 0 && GGML_BLOCK_LAYOUT[tensor.type]) {
      throw invalid(path, field, `tensor ${tensor.name} row of ${tensor.dims[0]} elements does not split into blocks of its type ${tensor.type}`);
    }
    const start = header.dataOffset + tensor.offset;
    const end = start + (bytes ?? 0n);
    if (end > header.fileSize || start > header.fileSize) {
      throw invalid(path, field, `tensor ${tensor.name} data ends at byte ${end} but the file has ${header.fileSize} bytes (truncated)`);
    }
  }
  return arch;
}

/** readGgufHeader + validateGgufHeader. */
export async function checkGgufFile(path: string): Promise<{ header: GgufHeader; architecture: string }> {
  const header = await readGgufHeader(path);
  return { header, architecture: validateGgufHeader(header, path) };
}

/** A metadata value as a plain JS value (arrays as arrays), or undefined. */
export function ggufMetadataValue(header: GgufHeader, key: string): GgufScalar | readonly GgufScalar[] | undefined {
  return header.metadata.get(key)?.value;
}
