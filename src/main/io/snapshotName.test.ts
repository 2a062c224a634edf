import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isSnapshotName, microsFromSnapshotName, snapshotNameFromMicros } from './snapshotName';

describe('snapshot names', () => {
  it('format UTC with microseconds', () => {
    const micros = Date.UTC(2025, 0, 2, 3, 4, 5, 678) * 1000 + 901;
    expect(snapshotNameFromMicros(micros)).toBe('guidance-20250102-030405-678901.json');
  });

  it('round-trip and sort in time order (property)', () => {
    const microsArb = fc.integer({ min: Date.UTC(2000, 0, 1) * 1000, max: Date.UTC(2099, 11, 31) * 1000 });
    fc.assert(
      fc.property(microsArb, microsArb, (a, b) => {
        const [na, nb] = [snapshotNameFromMicros(a), snapshotNameFromMicros(b)];
        expect(isSnapshotName(na)).toBe(true);
        expect(microsFromSnapshotName(na)).toBe(a);
        expect(Math.sign(na.localeCompare(nb))).toBe(Math.sign(a - b));
      }),
    );
  });

  it('refuses anything else, path tricks included', () => {
    for (const name of ['guidance.json', '../guidance-20250102-030405-678901.json', 'guidance-20250102-030405-678901.json.tmp', 'guidance-20250102-030405-67890.json']) {
      expect(isSnapshotName(name)).toBe(false);
      expect(microsFromSnapshotName(name)).toBeNull();
    }
  });
});
