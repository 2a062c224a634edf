/**
 * GGUF v3 wire constants shared by the writer and the header reader.
 * Spec: ggml/docs/gguf.md (little-endian; strings are u64 length + UTF-8 bytes).
 */
export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** Byte size of fixed-width scalar value types (strings and arrays are variable). */
export const GGUF_SCALAR_SIZE: Partial<Record<GgufValueType, number>> = {
  [GgufValueType.UINT8]: 1,
  [GgufValueType.INT8]: 1,
  [GgufValueType.UINT16]: 2,
  [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4,
  [GgufValueType.INT32]: 4,
  [GgufValueType.FLOAT32]: 4,
  [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT64]: 8,
  [GgufValueType.INT64]: 8,
  [GgufValueType.FLOAT64]: 8,
};

/** The ggml tensor types this project writes; the reader also knows the sizes of common others. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
}

/** [elements per block, bytes per block] for each ggml type whose layout is fixed. */
export const GGML_BLOCK_LAYOUT: Record<number, readonly [number, number]> = {
  [GgmlType.F32]: [1, 4],
  [GgmlType.F16]: [1, 2],
  [GgmlType.Q4_0]: [32, 18],
  [GgmlType.Q4_1]: [32, 20],
  [GgmlType.Q5_0]: [32, 22],
  [GgmlType.Q5_1]: [32, 24],
  [GgmlType.Q8_0]: [32, 34],
  [GgmlType.Q8_1]: [32, 36],
  [GgmlType.Q2_K]: [256, 84],
  [GgmlType.Q3_K]: [256, 110],
  [GgmlType.Q4_K]: [256, 144],
  [GgmlType.Q5_K]: [256, 176],
  [GgmlType.Q6_K]: [256, 210],
  [GgmlType.Q8_K]: [256, 292],
  [GgmlType.BF16]: [1, 2],
};

/** Byte size of a tensor, or null when the type is unknown or the row does not split into whole blocks. */
export function ggmlTensorBytes(type: number, dims: readonly bigint[] | readonly number[]): bigint | null {
  const layout = GGML_BLOCK_LAYOUT[type];
  if (!layout) return null;
  const [blockElements, blockBytes] = layout;
  if (dims.length === 0) return BigInt(blockBytes);
  const ne0 = BigInt(dims[0]);
  if (ne0 % BigInt(blockElements) !== 0n) return null;
  let rows = 1n;
  for (let i = 1; i < dims.length; i++) rows *= BigInt(dims[i]);
  return (ne0 / BigInt(blockElements)) * BigInt(blockBytes) * rows;
}

export function alignUp(value: bigint, alignment: bigint): bigint {
  const rem = value % alignment;
  return rem === 0n ? value : value + (alignment - rem);
}
