import { open, type FileHandle } from 'node:fs/promises';
import { StageBError } from '../../../shared/errors';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  GgufValueType,
  alignUp,
  ggmlTensorBytes,
} from './ggufFormat';

/**
 * Pure-Node GGUF v3 writer. Tensor data is pulled chunk by chunk from each
 * tensor's source and encoded on the fly, so a multi-GB random model streams to
 * disk without ever being held in memory.
 */
export type GgufScalarType = Exclude<GgufValueType, GgufValueType.ARRAY>;
export type GgufScalar = number | bigint | boolean | string;

export type GgufMetadataValue =
  | { type: GgufScalarType; value: GgufScalar }
  | { type: GgufValueType.ARRAY; itemType: GgufScalarType; value: readonly GgufScalar[] };

/** Key order is preserved in the file. */
export type GgufMetadata = Map<string, GgufMetadataValue>;

export type GgufWritableType = GgmlType.F32 | GgmlType.F16 | GgmlType.Q8_0;

export type GgufTensorSpec = {
  name: string;
  /** ggml order: dims[0] is the contiguous (row) dimension. */
  dims: number[];
  type: GgufWritableType;
  /** Yields the tensor's values in storage order; for Q8_0 every chunk holds whole 32-element blocks. */
  data: () => Iterable<Float32Array> | AsyncIterable<Float32Array>;
};

export type GgufWriteSpec = {
  metadata: GgufMetadata;
  tensors: GgufTensorSpec[];
  alignment?: number;
};

/** Shorthand constructors so metadata tables read like the GGUF spec. */
export const gguf = {
  u32: (value: number): GgufMetadataValue => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): GgufMetadataValue => ({ type: GgufValueType.INT32, value }),
  u64: (value: number | bigint): GgufMetadataValue => ({ type: GgufValueType.UINT64, value: BigInt(value) }),
  f32: (value: number): GgufMetadataValue => ({ type: GgufValueType.FLOAT32, value }),
  f64: (value: number): GgufMetadataValue => ({ type: GgufValueType.FLOAT64, value }),
  bool: (value: boolean): GgufMetadataValue => ({ type: GgufValueType.BOOL, value }),
  str: (value: string): GgufMetadataValue => ({ type: GgufValueType.STRING, value }),
  arr: (itemType: GgufScalarType, value: readonly GgufScalar[]): GgufMetadataValue => ({ type: GgufValueType.ARRAY, itemType, value }),
};

/** Growable little-endian byte buffer for the header. */
class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): void { this.ensure(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  i8(v: number): void { this.ensure(1); this.buf.writeInt8(v, this.length); this.length += 1; }
  u16(v: number): void { this.ensure(2); this.buf.writeUInt16LE(v, this.length); this.length += 2; }
  i16(v: number): void { this.ensure(2); this.buf.writeInt16LE(v, this.length); this.length += 2; }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32LE(v >>> 0, this.length); this.length += 4; }
  i32(v: number): void { this.ensure(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  f32(v: number): void { this.ensure(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  f64(v: number): void { this.ensure(8); this.buf.writeDoubleLE(v, this.length); this.length += 8; }
  u64(v: bigint | number): void { this.ensure(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  i64(v: bigint | number): void { this.ensure(8); this.buf.writeBigInt64LE(BigInt(v), this.length); this.length += 8; }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  pad(alignment: number): void {
    const target = Number(alignUp(BigInt(this.length), BigInt(alignment)));
    this.ensure(target - this.length);
    this.buf.fill(0, this.length, target);
    this.length = target;
  }
  bytes(): Buffer { return this.buf.subarray(0, this.length); }
}

function writeScalar(w: ByteWriter, type: GgufScalarType, value: GgufScalar, key: string): void {
  switch (type) {
    case GgufValueType.UINT8: return w.u8(Number(value));
    case GgufValueType.INT8: return w.i8(Number(value));
    case GgufValueType.UINT16: return w.u16(Number(value));
    case GgufValueType.INT16: return w.i16(Number(value));
    case GgufValueType.UINT32: return w.u32(Number(value));
    case GgufValueType.INT32: return w.i32(Number(value));
    case GgufValueType.FLOAT32: return w.f32(Number(value));
    case GgufValueType.FLOAT64: return w.f64(Number(value));
    case GgufValueType.BOOL: return w.u8(value ? 1 : 0);
    case GgufValueType.UINT64: return w.u64(BigInt(value as number | bigint));
    case GgufValueType.INT64: return w.i64(BigInt(value as number | bigint));
    case GgufValueType.STRING:
      if (typeof value !== 'string') throw new StageBError('INTERNAL', `GGUF key ${key}: expected a string`, { field: key });
      return w.str(value);
    default:
      throw new StageBError('INTERNAL', `GGUF key ${key}: unsupported value type ${type as number}`, { field: key });
  }
}

/** Serializes header + metadata + tensor infos; returns the bytes and each tensor's data offset. */
export function encodeGgufHeader(spec: GgufWriteSpec): { header: Buffer; offsets: bigint[]; dataBytes: bigint[]; alignment: number } {
  const alignment = spec.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const metadata = new Map(spec.metadata);
  metadata.set('general.alignment', gguf.u32(alignment));
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(spec.tensors.length);
  w.u64(metadata.size);
  for (const [key, entry] of metadata) {
    w.str(key);
    w.u32(entry.type);
    if (entry.type === GgufValueType.ARRAY) {
      w.u32(entry.itemType);
      w.u64(entry.value.length);
      for (const item of entry.value) writeScalar(w, entry.itemType, item, key);
    } else {
      writeScalar(w, entry.type, entry.value, key);
    }
  }
  const offsets: bigint[] = [];
  const dataBytes: bigint[] = [];
  let offset = 0n;
  for (const tensor of spec.tensors) {
    const bytes = ggmlTensorBytes(tensor.type, tensor.dims);
    if (bytes === null) throw new StageBError('INTERNAL', `tensor ${tensor.name}: row of ${tensor.dims[0]} does not fit type ${GgmlType[tensor.type]}`, { field: tensor.name });
    offset = alignUp(offset, BigInt(alignment));
    offsets.push(offset);
    dataBytes.push(bytes);
    w.str(tensor.name);
    w.u32(tensor.dims.length);
    for (const d of tensor.dims) w.u64(d);
    w.u32(tensor.type);
    w.u64(offset);
    offset += bytes;
  }
  w.pad(alignment);
  return { header: w.bytes(), offsets, dataBytes, alignment };
}

/** Buffers small writes into large sequential ones. */
class FileSink {
  private buf = Buffer.alloc(4 << 20);
  private used = 0;
  written = 0n;
  constructor(private readonly fh: FileHandle) {}

  async write(bytes: Uint8Array): Promise<void> {
    let pos = 0;
    while (pos < bytes.length) {
      const n = Math.min(bytes.length - pos, this.buf.length - this.used);
      this.buf.set(bytes.subarray(pos, pos + n), this.used);
      this.used += n;
      pos += n;
      if (this.used === this.buf.length) await this.flush();
    }
    this.written += BigInt(bytes.length);
  }

  async zeros(count: number): Promise<void> {
    if (count > 0) await this.write(new Uint8Array(count));
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.fh.write(this.buf, 0, this.used);
    this.used = 0;
  }
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half from a float (round to nearest even), as ggml's GGML_FP32_TO_FP16 does. */
export function floatToHalf(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function encodeChunk(type: GgufWritableType, values: Float32Array, tensor: string): Uint8Array {
  if (type === GgmlType.F32) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (type === GgmlType.F16) {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]);
    return new Uint8Array(out.buffer);
  }
  if (values.length % 32 !== 0) throw new StageBError('INTERNAL', `tensor ${tensor}: Q8_0 chunk of ${values.length} values is not whole blocks`, { field: tensor });
  const blocks = values.length / 32;
  const out = Buffer.alloc(blocks * 34);
  for (let b = 0; b < blocks; b++) {
    const base = b * 32;
    let amax = 0;
    for (let i = 0; i < 32; i++) {
      const a = Math.abs(values[base + i]);
      if (a > amax) amax = a;
    }
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    const o = b * 34;
    out.writeUInt16LE(floatToHalf(d), o);
    for (let i = 0; i < 32; i++) out.writeInt8(Math.max(-127, Math.min(127, Math.round(values[base + i] * id))), o + 2 + i);
  }
  return out;
}

function elementCount(dims: readonly number[]): bigint {
  return dims.reduce((acc, d) => acc * BigInt(d), 1n);
}

/** Writes a GGUF file. Returns its size in bytes. */
export async function writeGguf(path: string, spec: GgufWriteSpec): Promise<number> {
  const { header, offsets, alignment } = encodeGgufHeader(spec);
  const fh = await open(path, 'w');
  try {
    const sink = new FileSink(fh);
    await sink.write(header);
    const dataStart = sink.written;
    for (let t = 0; t < spec.tensors.length; t++) {
      const tensor = spec.tensors[t];
      const target = dataStart + offsets[t];
      await sink.zeros(Number(target - sink.written));
      let elements = 0n;
      for await (const chunk of tensor.data()) {
        elements += BigInt(chunk.length);
        await sink.write(encodeChunk(tensor.type, chunk, tensor.name));
      }
      const expected = elementCount(tensor.dims);
      if (elements !== expected) throw new StageBError('INTERNAL', `tensor ${tensor.name}: source gave ${elements} values, shape needs ${expected}`, { field: tensor.name });
    }
    await sink.zeros(Number(alignUp(sink.written, BigInt(alignment)) - sink.written));
    await sink.flush();
    return Number(sink.written);
  } finally {
    await fh.close();
  }
}
