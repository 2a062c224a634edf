import { WarningCodeSchema } from '../../shared/schemas/records';

/** Tri-state / enum codes stored in the Uint8 columns. */
export const LABEL_CODE = { none: 0, pass: 1, fail: 2 } as const;
export const BOOL_CODE = { null: 0, false: 1, true: 2 } as const;

/** Bits of the `flags` column. */
export const ROW_FLAG = { critique: 1, summary: 2 } as const;

export const WARNING_BITS: ReadonlyMap<string, number> = new Map(WarningCodeSchema.options.map((code, index) => [code, 1 << index]));

function grow<T extends Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array>(array: T, capacity: number): T {
  const next = new (array.constructor as new (length: number) => T)(capacity);
  next.set(array);
  return next;
}

function flatCopy(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

/** Interns strings to small ids (0 is reserved for null). */
export class StringDictionary {
  readonly values: (string | null)[] = [null];
  private readonly ids = new Map<string, number>();
  private sortedRank: Uint32Array | null = null;

  /** A dictionary holding `values` (values[0] must be null), as saved by an index sidecar. */
  static fromValues(values: readonly (string | null)[]): StringDictionary {
    const dictionary = new StringDictionary();
    for (let id = 1; id < values.length; id += 1) {
      const value = values[id];
      if (typeof value !== 'string' || dictionary.ids.has(value)) throw new Error(`dictionary entry ${id} is not a new string`);
      dictionary.intern(value);
    }
    return dictionary;
  }

  intern(value: string | null | undefined): number {
    if (value === null || value === undefined) return 0;
    let id = this.ids.get(value);
    if (id === undefined) {
      // A slice of a long line would keep the whole line alive as long as the dictionary.
      if (value.length > 12) value = flatCopy(value);
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
      this.sortedRank = null;
    }
    return id;
  }

  idOf(value: string): number | undefined {
    return this.ids.get(value);
  }

  /** rank[id] = position of values[id] in code-point order (null first). */
  ranks(): Uint32Array {
    if (this.sortedRank && this.sortedRank.length === this.values.length) return this.sortedRank;
    const order = this.values.map((_, id) => id).slice(1);
    order.sort((a, b) => {
      const x = this.values[a] as string;
      const y = this.values[b] as string;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const rank = new Uint32Array(this.values.length);
    order.forEach((id, position) => (rank[id] = position + 1));
    this.sortedRank = rank;
    return rank;
  }
}

/** The typed-array columns of RowColumns, in a fixed order (the sidecar layout). */
export const COLUMN_NAMES = [
  'offset',
  'byteLength',
  'lineNo',
  'epoch',
  'batchIndex',
  'candidate',
  'guidanceStep',
  'label',
  'verdict',
  'labelMatch',
  'eligible',
  'confidence',
  'selfConsistency',
  'warnings',
  'flags',
  'ineligibleReason',
  'groupId',
] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];
export type ColumnArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * The compact columnar index of one JSONL file: one typed-array slot per indexed
 * row, holding only what filters and sorts need plus where the line lives on disk.
 */
export class RowColumns {
  length = 0;
  capacity: number;
  offset: Float64Array;
  byteLength: Uint32Array;
  lineNo: Uint32Array;
  epoch: Int32Array;
  batchIndex: Int32Array;
  candidate: Int32Array;
  guidanceStep: Int32Array;
  label: Uint8Array;
  verdict: Uint8Array;
  labelMatch: Uint8Array;
  eligible: Uint8Array;
  confidence: Float32Array;
  selfConsistency: Float32Array;
  warnings: Uint16Array;
  flags: Uint8Array;
  ineligibleReason: Uint32Array;
  groupId: Uint32Array;
  ineligibleReasons = new StringDictionary();
  groupIds = new StringDictionary();

  constructor(capacity = 1024) {
    this.capacity = capacity;
    this.offset = new Float64Array(capacity);
    this.byteLength = new Uint32Array(capacity);
    this.lineNo = new Uint32Array(capacity);
    this.epoch = new Int32Array(capacity);
    this.batchIndex = new Int32Array(capacity);
    this.candidate = new Int32Array(capacity);
    this.guidanceStep = new Int32Array(capacity);
    this.label = new Uint8Array(capacity);
    this.verdict = new Uint8Array(capacity);
    this.labelMatch = new Uint8Array(capacity);
    this.eligible = new Uint8Array(capacity);
    this.confidence = new Float32Array(capacity);
    this.selfConsistency = new Float32Array(capacity);
    this.warnings = new Uint16Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.ineligibleReason = new Uint32Array(capacity);
    this.groupId = new Uint32Array(capacity);
  }

  private ensure(capacity: number): void {
    if (capacity <= this.capacity) return;
    let next = this.capacity;
    while (next < capacity) next *= 2;
    this.capacity = next;
    this.offset = grow(this.offset, next);
    this.byteLength = grow(this.byteLength, next);
    this.lineNo = grow(this.lineNo, next);
    this.epoch = grow(this.epoch, next);
    this.batchIndex = grow(this.batchIndex, next);
    this.candidate = grow(this.candidate, next);
    this.guidanceStep = grow(this.guidanceStep, next);
    this.label = grow(this.label, next);
    this.verdict = grow(this.verdict, next);
    this.labelMatch = grow(this.labelMatch, next);
    this.eligible = grow(this.eligible, next);
    this.confidence = grow(this.confidence, next);
    this.selfConsistency = grow(this.selfConsistency, next);
    this.warnings = grow(this.warnings, next);
    this.flags = grow(this.flags, next);
    this.ineligibleReason = grow(this.ineligibleReason, next);
    this.groupId = grow(this.groupId, next);
  }

  /** Appends one parsed record; returns false (and stores nothing) when the indexed fields are not the right shape. */
  push(record: Record<string, unknown>, offset: number, byteLength: number, lineNo: number): boolean {
    const signals = record.signals as Record<string, unknown> | undefined;
    if (typeof record.group_id !== 'string' || typeof record.epoch !== 'number' || !signals || typeof signals !== 'object') return false;
    this.ensure(this.length + 1);
    const i = this.length;
    this.offset[i] = offset;
    this.byteLength[i] = byteLength;
    this.lineNo[i] = lineNo;
    this.epoch[i] = record.epoch;
    this.batchIndex[i] = typeof record.batch_index === 'number' ? record.batch_index : -1;
    const candidate = typeof record.candidate_index === 'number' ? record.candidate_index : record.selected_candidate;
    this.candidate[i] = typeof candidate === 'number' ? candidate : -1;
    this.guidanceStep[i] = typeof record.guidance_step === 'number' ? record.guidance_step : -1;
    this.label[i] = record.label === 'pass' ? LABEL_CODE.pass : record.label === 'fail' ? LABEL_CODE.fail : LABEL_CODE.none;
    this.verdict[i] = record.verdict === 'pass' ? LABEL_CODE.pass : record.verdict === 'fail' ? LABEL_CODE.fail : LABEL_CODE.none;
    this.labelMatch[i] = signals.label_match === true ? BOOL_CODE.true : signals.label_match === false ? BOOL_CODE.false : BOOL_CODE.null;
    this.eligible[i] = record.eligible === true ? BOOL_CODE.true : record.eligible === false ? BOOL_CODE.false : BOOL_CODE.null;
    this.confidence[i] = typeof record.confidence === 'number' ? record.confidence : Number.NaN;
    this.selfConsistency[i] = typeof signals.self_consistency === 'number' ? signals.self_consistency : Number.NaN;
    let bits = 0;
    if (Array.isArray(record.warnings)) for (const code of record.warnings) bits |= WARNING_BITS.get(code as string) ?? 0;
    this.warnings[i] = bits;
    this.flags[i] =
      (typeof record.critique === 'string' && record.critique.trim() ? ROW_FLAG.critique : 0) |
      (typeof record.summary === 'string' && record.summary.trim() ? ROW_FLAG.summary : 0);
    this.ineligibleReason[i] = this.ineligibleReasons.intern(typeof record.ineligible_reason === 'string' ? record.ineligible_reason : null);
    this.groupId[i] = this.groupIds.intern(record.group_id);
    this.length = i + 1;
    return true;
  }

  /** The filled part of every column, by name (what an index sidecar stores). */
  columnViews(): Record<ColumnName, ColumnArray> {
    const views = {} as Record<ColumnName, ColumnArray>;
    for (const name of COLUMN_NAMES) views[name] = this[name].subarray(0, this.length) as ColumnArray;
    return views;
  }

  /** Columns restored from an index sidecar; every array must hold `length` rows of the right type. */
  static fromColumns(length: number, columns: Record<ColumnName, ColumnArray>, groupIds: StringDictionary, ineligibleReasons: StringDictionary): RowColumns {
    const restored = new RowColumns(Math.max(1, length));
    for (const name of COLUMN_NAMES) {
      const source = columns[name];
      const target = restored[name];
      if (source.constructor !== target.constructor || source.length !== length) throw new Error(`column ${name} has the wrong type or length`);
      target.set(source as never);
    }
    restored.length = length;
    restored.groupIds = groupIds;
    restored.ineligibleReasons = ineligibleReasons;
    return restored;
  }

  /** Drops rows from `length` on (used to retract a provisional last row). */
  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  approximateBytes(): number {
    return this.capacity * (8 + 4 * 11 + 1 * 5 + 2);
  }
}
