/**
 * A targeted scanner over one JSONL line's UTF-8 bytes: it checks the whole line against the
 * JSON grammar but materialises only the top-level keys the line index reads
 * (INDEXED_KEYS, plus `signals.label_match` / `signals.self_consistency`), so
 * indexing a 400 MB file pays neither for decoding every line to a JS string
 * nor for JSON.parse building every nested object.
 *
 * The result is a small object holding exactly the values JSON.parse would give
 * for those keys (duplicate keys: the last wins, as in JSON.parse). Values of
 * indexed keys that the index never looks into (an object under `critique`, say)
 * come back as an empty placeholder of the same type. Whenever the scanner is not
 * certain — anything outside the grammar, an escaped key, nesting deeper than
 * MAX_DEPTH — it returns null and the caller falls back to JSON.parse, so
 * correctness never depends on this fast path.
 */

/** Top-level keys read by RowColumns.push and the text column (see JsonlLineIndex textOf). */
export const INDEXED_KEYS = [
  'group_id',
  'ticket_key',
  'epoch',
  'batch_index',
  'candidate_index',
  'selected_candidate',
  'guidance_step',
  'label',
  'verdict',
  'eligible',
  'confidence',
  'signals',
  'warnings',
  'response_text',
  'reason',
  'summary',
  'critique',
  'ineligible_reason',
] as const;

/** Keys of `signals` the index reads. */
export const INDEXED_SIGNAL_KEYS = ['label_match', 'self_consistency'] as const;

const MAX_DEPTH = 64;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NOT_CERTAIN = Symbol('not certain');
const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** Wanted key names grouped by length, so a key is compared only against names of its length. */
type KeyTable = ({ names: string[]; bytes: Buffer[] } | undefined)[];

function keyTable(keys: readonly string[]): KeyTable {
  const table: KeyTable = [];
  for (const name of keys) {
    const entry = (table[name.length] ??= { names: [], bytes: [] });
    entry.names.push(name);
    entry.bytes.push(Buffer.from(name, 'latin1'));
  }
  return table;
}

const TOP_KEYS = keyTable(INDEXED_KEYS);
const SIGNAL_KEYS = keyTable(INDEXED_SIGNAL_KEYS);

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** The byte at `at`, or -1 past the line's end (so no check below ever matches it). */
function byteAt(at: number): number {
  return at < end ? text[at] : -1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * A plain decimal (no exponent, at most 15 digits) as mantissa / 10^k: both are
 * exact doubles, so the one division is correctly rounded — the double Number()
 * and JSON.parse give. undefined for anything else.
 */
function fastNumber(bytes: Buffer, start: number, stop: number): number | undefined {
  let pos = start;
  const negative = bytes[pos] === 0x2d;
  if (negative) pos += 1;
  if (stop - pos > 15) return undefined;
  let mantissa = 0;
  let fraction = -1;
  for (; pos < stop; pos += 1) {
    const c = bytes[pos];
    if (c === 0x2e) fraction = 0;
    else if (isDigit(c)) {
      mantissa = mantissa * 10 + (c - 0x30);
      if (fraction >= 0) fraction += 1;
    } else return undefined;
  }
  const value = fraction > 0 ? mantissa / POWERS_OF_TEN[fraction] : mantissa;
  return negative ? -value : value;
}

/** Scanner state over one line (module-level so scanning a line allocates no closures). */
const EMPTY = Buffer.alloc(0);
let text: Buffer = EMPTY;
let pos = 0;
let end = 0;
let lastEscaped = false;

function skipWhitespace(): void {
  let c = byteAt(pos);
  while (pos < end && (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) c = byteAt(++pos);
}

/** pos is on an opening quote; returns the closing quote's index (pos moves past it) or -1. */
function scanString(): number {
  let at = pos + 1;
  let escaped = false;
  for (;;) {
    let c = byteAt(at);
    while (c !== QUOTE && c !== BACKSLASH && c >= 0x20) c = byteAt(++at);
    // -1 (past the end) and control characters both land here.
    if (c < 0x20) return -1;
    if (c === QUOTE) {
      lastEscaped = escaped;
      pos = at + 1;
      return at;
    }
    escaped = true;
    const next = byteAt(at + 1);
    if (next === 0x75) {
      if (!isHex(byteAt(at + 2)) || !isHex(byteAt(at + 3)) || !isHex(byteAt(at + 4)) || !isHex(byteAt(at + 5))) return -1;
      at += 6;
    } else if (next === QUOTE || next === BACKSLASH || next === 0x2f || next === 0x62 || next === 0x66 || next === 0x6e || next === 0x72 || next === 0x74) {
      at += 2;
    } else return -1;
  }
}

/** pos is on a number's first character; returns its value (pos moves past it) or undefined. */
function scanNumber(): number | undefined {
  const start = pos;
  let at = start;
  if (byteAt(at) === 0x2d) at += 1;
  const first = byteAt(at);
  if (first === 0x30) at += 1;
  else if (first >= 0x31 && first <= 0x39) while (isDigit(byteAt(at))) at += 1;
  else return undefined;
  if (byteAt(at) === 0x2e) {
    at += 1;
    if (!isDigit(byteAt(at))) return undefined;
    while (isDigit(byteAt(at))) at += 1;
  }
  const e = byteAt(at);
  if (e === 0x65 || e === 0x45) {
    at += 1;
    const sign = byteAt(at);
    if (sign === 0x2b || sign === 0x2d) at += 1;
    if (!isDigit(byteAt(at))) return undefined;
    while (isDigit(byteAt(at))) at += 1;
  }
  if (at > end) return undefined;
  pos = at;
  return fastNumber(text, start, at) ?? Number(text.toString('latin1', start, at));
}

/** true / false / null at pos, or undefined when pos is not on a literal. */
function scanLiteral(): boolean | null | undefined {
  const c = byteAt(pos);
  if (c === 0x74 && byteAt(pos + 1) === 0x72 && byteAt(pos + 2) === 0x75 && byteAt(pos + 3) === 0x65) {
    pos += 4;
    return true;
  }
  if (c === 0x66 && byteAt(pos + 1) === 0x61 && byteAt(pos + 2) === 0x6c && byteAt(pos + 3) === 0x73 && byteAt(pos + 4) === 0x65) {
    pos += 5;
    return false;
  }
  if (c === 0x6e && byteAt(pos + 1) === 0x75 && byteAt(pos + 2) === 0x6c && byteAt(pos + 3) === 0x6c) {
    pos += 4;
    return null;
  }
  return undefined;
}

/** Checks and skips any value; false when not certain. */
function skipValue(depth: number): boolean {
  const c = byteAt(pos);
  if (c === QUOTE) return scanString() !== -1;
  if (c === 0x7b) return walkObject(depth + 1, null, null);
  if (c === 0x5b) return walkArray(depth + 1, null);
  if (c === 0x2d || isDigit(c)) return scanNumber() !== undefined;
  return scanLiteral() !== undefined;
}

/**
 * The value at pos as JSON.parse gives it for what the index reads: primitives in
 * full, objects and arrays as empty placeholders (checked and skipped).
 */
function readShallow(depth: number): unknown {
  const c = byteAt(pos);
  if (c === QUOTE) {
    const open = pos;
    const close = scanString();
    if (close === -1) return NOT_CERTAIN;
    return lastEscaped ? (JSON.parse(text.toString('utf8', open, close + 1)) as string) : text.toString('utf8', open + 1, close);
  }
  if (c === 0x7b) return walkObject(depth + 1, null, null) ? {} : NOT_CERTAIN;
  if (c === 0x5b) return walkArray(depth + 1, null) ? [] : NOT_CERTAIN;
  if (c === 0x2d || isDigit(c)) return scanNumber() ?? NOT_CERTAIN;
  const literal = scanLiteral();
  return literal === undefined ? NOT_CERTAIN : literal;
}

const KEY_NOT_CERTAIN = -2;
const KEY_UNWANTED = -1;

/** pos is on a key's opening quote: the index of the key in table[length], KEY_UNWANTED, or KEY_NOT_CERTAIN. */
function readKey(table: KeyTable | null): number {
  const open = pos;
  const close = scanString();
  if (close === -1) return KEY_NOT_CERTAIN;
  if (!table) return KEY_UNWANTED;
  // An escaped key could spell a wanted name; JSON.parse decides those.
  if (lastEscaped) return KEY_NOT_CERTAIN;
  const entry = table[close - open - 1];
  if (!entry) return KEY_UNWANTED;
  for (let k = 0; k < entry.bytes.length; k += 1) {
    const name = entry.bytes[k];
    let i = 0;
    while (i < name.length && text[open + 1 + i] === name[i]) i += 1;
    if (i === name.length) return k;
  }
  return KEY_UNWANTED;
}

/**
 * pos is on '{'. Wanted keys (by `table`) are handed to `read` with pos on their
 * value; every other value is checked and skipped.
 */
function walkObject(depth: number, table: KeyTable | null, read: ((name: string) => boolean) | null): boolean {
  if (depth > MAX_DEPTH) return false;
  pos += 1;
  skipWhitespace();
  if (byteAt(pos) === 0x7d) {
    pos += 1;
    return pos <= end;
  }
  for (;;) {
    if (byteAt(pos) !== QUOTE) return false;
    const open = pos;
    const key = readKey(table);
    if (key === KEY_NOT_CERTAIN) return false;
    const name = key >= 0 && table ? (table[pos - open - 2] as { names: string[] }).names[key] : null;
    skipWhitespace();
    if (byteAt(pos) !== 0x3a) return false;
    pos += 1;
    skipWhitespace();
    if (name !== null && read) {
      if (!read(name)) return false;
    } else if (!skipValue(depth)) return false;
    skipWhitespace();
    const c = byteAt(pos);
    pos += 1;
    if (c === 0x7d) return pos <= end;
    if (c !== 0x2c) return false;
    skipWhitespace();
  }
}

/** pos is on '['. With `each`, every element is handed to it; otherwise only checked. */
function walkArray(depth: number, each: (() => boolean) | null): boolean {
  if (depth > MAX_DEPTH) return false;
  pos += 1;
  skipWhitespace();
  if (byteAt(pos) === 0x5d) {
    pos += 1;
    return pos <= end;
  }
  for (;;) {
    if (each ? !each() : !skipValue(depth)) return false;
    skipWhitespace();
    const c = byteAt(pos);
    pos += 1;
    if (c === 0x5d) return pos <= end;
    if (c !== 0x2c) return false;
    skipWhitespace();
  }
}

/** The record being filled by the current scan. */
let record: Record<string, unknown> = {};
let signals: Record<string, unknown> = {};
let warnings: unknown[] = [];

function readSignal(name: string): boolean {
  const value = readShallow(2);
  if (value === NOT_CERTAIN) return false;
  signals[name] = value;
  return true;
}

function readWarning(): boolean {
  const value = readShallow(2);
  if (value === NOT_CERTAIN) return false;
  warnings.push(value);
  return true;
}

function readTopLevel(name: string): boolean {
  const c = byteAt(pos);
  if (name === 'signals' && c === 0x7b) {
    signals = {};
    record.signals = signals;
    return walkObject(2, SIGNAL_KEYS, readSignal);
  }
  if (name === 'warnings' && c === 0x5b) {
    warnings = [];
    record.warnings = warnings;
    return walkArray(2, readWarning);
  }
  const value = readShallow(1);
  if (value === NOT_CERTAIN) return false;
  record[name] = value;
  return true;
}

/**
 * The indexed fields of the JSON object in bytes[start, stop) (one line, no
 * newline), or null when it is not certainly a JSON object this scanner handles
 * (then use JSON.parse on the decoded line).
 */
export function scanIndexedFields(bytes: Buffer, start: number, stop: number): Record<string, unknown> | null {
  text = bytes;
  pos = start;
  end = stop;
  try {
    skipWhitespace();
    if (byteAt(pos) !== 0x7b) return null;
    record = {};
    if (!walkObject(1, TOP_KEYS, readTopLevel)) return null;
    skipWhitespace();
    return pos === end ? record : null;
  } finally {
    record = {};
    text = EMPTY;
  }
}
