import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TrajectoryRecord } from '../../../shared/schemas/records';
import { fixtureSelections, fixtureTrajectories } from '../fixtureRun';
import { RowColumns } from '../RowColumns';
import { INDEXED_KEYS, INDEXED_SIGNAL_KEYS, scanIndexedFields } from './scanIndexedFields';

/** What the scanner must return for a line: JSON.parse's values for the indexed keys, objects/arrays as empty placeholders. */
function projection(line: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const shallow = (v: unknown) => (Array.isArray(v) ? [] : v && typeof v === 'object' ? {} : v);
  for (const key of INDEXED_KEYS) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    const v = record[key];
    if (key === 'signals' && v && typeof v === 'object' && !Array.isArray(v)) {
      const signals: Record<string, unknown> = {};
      for (const k of INDEXED_SIGNAL_KEYS) if (Object.prototype.hasOwnProperty.call(v, k)) signals[k] = shallow((v as Record<string, unknown>)[k]);
      out.signals = signals;
    } else if (key === 'warnings' && Array.isArray(v)) out.warnings = v.map(shallow);
    else out[key] = shallow(v);
  }
  return out;
}

function scan(line: string): Record<string, unknown> | null {
  // Surrounding bytes prove the scanner stays inside [start, stop).
  const bytes = Buffer.from(`{"x":1}\n${line}\n"tail`, 'utf8');
  const start = Buffer.byteLength('{"x":1}\n');
  return scanIndexedFields(bytes, start, start + Buffer.byteLength(line));
}

const BASE: TrajectoryRecord[] = [...fixtureTrajectories({ runName: 'r', mission: 'BBU接地线检查', groups: 12, candidates: 3, epochs: 2 })];

/** Strings that stress the scanner: quotes, backslashes, escapes, control characters, astral and cased unicode. */
const trickyString = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '/', '\n', '\t', '\u0000', '\u001f', 'É', 'Σ', 'İ', '接', '地', '😀', '\ud800', 'a', 'Z', ' ', '\u3000', '\u2028') }),
  fc.constantFrom('', 'Verdict: 通过\nReason: "quoted" \\ back\nConfidence: 0.5', 'ΣΑΣ', 'label_match', '"signals":{"label_match":true}'),
);

describe('scanIndexedFields', () => {
  it('takes the fast path on every row our writer produces and agrees with JSON.parse', () => {
    for (const row of [...BASE, ...fixtureSelections({ runName: 'r', mission: 'm', groups: 12, candidates: 3, epochs: 2 })]) {
      const line = JSON.stringify(row);
      const scanned = scan(line);
      expect(scanned).not.toBeNull();
      expect(scanned).toEqual(projection(line));
    }
  });

  it('equals JSON.parse on schema rows with tricky strings, nested look-alike keys and odd values (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(BASE.length - 1),
        fc.record({ response_text: trickyString, reason: fc.option(trickyString), summary: fc.option(trickyString), critique: fc.option(trickyString), group_id: trickyString }),
        fc.constantFrom('plain', 'nested-lookalike', 'duplicate', 'odd-types', 'whitespace', 'escaped-key'),
        fc.double({ noNaN: true }),
        (pick, strings, variant, number) => {
          const row: Record<string, unknown> = { ...BASE[pick], ...strings };
          let line: string;
          if (variant === 'nested-lookalike') {
            row.decode = { epoch: 99, label_match: false, signals: { label_match: 'x' }, group_id: 'NOT' };
            row.signals = { ...(row.signals as object), nested: { label_match: true, self_consistency: 5 } };
            line = JSON.stringify(row);
          } else if (variant === 'duplicate') {
            line = JSON.stringify(row).replace(/}$/, `,"epoch":${JSON.stringify(number)},"label":"pass","signals":{"label_match":false}}`);
          } else if (variant === 'odd-types') {
            row.warnings = ['malformed_output', 3, null, { a: [1, 2] }, 'low_self_consistency'];
            row.confidence = number;
            row.critique = { text: strings.critique };
            line = JSON.stringify(row);
          } else if (variant === 'whitespace') {
            line = JSON.stringify(row, null, 1).replaceAll('\n', ' ');
          } else if (variant === 'escaped-key') {
            line = JSON.stringify(row).replace('"epoch"', '"ep\\u006fch"');
          } else line = JSON.stringify(row);
          const scanned = scan(line);
          if (variant === 'plain' || variant === 'nested-lookalike' || variant === 'duplicate' || variant === 'odd-types') expect(scanned).not.toBeNull();
          if (scanned !== null) expect(scanned).toEqual(projection(line));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never accepts a line JSON.parse rejects (property over mutated lines)', () => {
    const line = JSON.stringify(BASE[3]);
    fc.assert(
      fc.property(fc.nat(line.length - 1), fc.constantFrom('', '"', '\\', '{', '}', ',', ':', '\n', '\u0001', '1e', '-', 'tru', ' '), (at, insert) => {
        const mutated = line.slice(0, at) + insert + line.slice(at + (insert === '' ? 1 : 0));
        const expected = projection(mutated);
        const scanned = scan(mutated);
        if (expected === null) expect(scanned).toBeNull();
        else if (scanned !== null) expect(scanned).toEqual(expected);
      }),
      { numRuns: 600 },
    );
  });

  it('handles numbers exactly as JSON.parse (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0.1, 0.59, -0, 1e21, 123456789012345, 1.5e-7, 0.000001)), (value) => {
        const line = JSON.stringify({ group_id: 'g', epoch: value, confidence: value, signals: { self_consistency: value } });
        expect(scan(line)).toEqual(projection(line));
      }),
    );
  });

  it('gives identical columns through the fast path and through JSON.parse', () => {
    const fast = new RowColumns();
    const slow = new RowColumns();
    BASE.forEach((row, i) => {
      const line = JSON.stringify(row);
      expect(fast.push(scan(line) as Record<string, unknown>, i, line.length, i + 1)).toBe(true);
      expect(slow.push(JSON.parse(line), i, line.length, i + 1)).toBe(true);
    });
    expect(fast.columnViews()).toEqual(slow.columnViews());
    expect(fast.groupIds.values).toEqual(slow.groupIds.values);
  });
});
