import { describe, expect, it } from 'vitest';
import { compareRuns, finalSelections } from './compareRuns';
import { selection } from '../distill/testFixtures';
import type { GroupLabel } from '../verdict';

type Row = [groupId: string, label: GroupLabel | null, verdict: GroupLabel | null, epoch?: number, mission?: string];
const rows = (run: string, list: Row[]) =>
  list.map(([group_id, label, verdict, epoch = 0, mission = 'M1']) => selection({ run_name: run, group_id, label, verdict, epoch, mission }));

describe('compareRuns', () => {
  // Run A (dense+summary). M1: 4 fail tickets, 1 released; 2 pass tickets, both matched.
  // M2: 2 fail tickets, both released; 1 unlabelled.
  const a = rows('a', [
    ['f1', 'fail', 'pass'],
    ['f2', 'fail', 'fail'],
    ['f3', 'fail', 'fail'],
    ['f4', 'fail', 'fail'],
    ['p1', 'pass', 'pass'],
    ['p2', 'pass', 'pass'],
    ['m1', 'fail', 'pass', 0, 'M2'],
    ['m2', 'fail', 'pass', 0, 'M2'],
    ['u1', null, 'pass', 0, 'M2'],
  ]);
  // Run B (with distill). Epoch 0 rows are superseded by epoch 1 for the same groups.
  const b = rows('b', [
    ['f1', 'fail', 'pass', 0],
    ['f1', 'fail', 'fail', 1],
    ['f2', 'fail', 'fail', 1],
    ['f3', 'fail', 'fail', 1],
    ['f4', 'fail', 'fail', 1],
    ['p1', 'pass', 'fail', 1],
    ['p2', 'pass', null, 1],
    ['m1', 'fail', 'fail', 0, 'M2'],
    ['m2', 'fail', 'pass', 0, 'M2'],
  ]);
  const result = compareRuns({ name: 'a', selections: a }, { name: 'b', selections: b });

  it('counts the last epoch of each group', () => {
    expect(finalSelections(b)).toHaveLength(8);
    expect(finalSelections(b).find((r) => r.group_id === 'f1')!.verdict).toBe('fail');
  });

  it('computes per-mission label_match and false-release rates by hand', () => {
    const m1 = result.missions.M1;
    // A: 5 of 6 labelled match; 1 of 4 fail tickets released.
    expect(m1.label_match.a).toMatchObject({ successes: 5, n: 6 });
    expect(m1.false_release.a).toMatchObject({ successes: 1, n: 4, rate: 0.25 });
    // B: f1-f4 match, p1 wrong, p2 malformed (a miss) → 4 of 6; no release.
    expect(m1.label_match.b).toMatchObject({ successes: 4, n: 6 });
    expect(m1.false_release.b).toMatchObject({ successes: 0, n: 4, rate: 0 });
    expect(m1.false_release.diff!.estimate).toBeCloseTo(-0.25, 12);
    // Wilson 5/6 = [0.4365, 0.9699]; 1/4 = [0.0456, 0.6994].
    expect(m1.label_match.a.ci!.lower).toBeCloseTo(0.4365, 4);
    expect(m1.label_match.a.ci!.upper).toBeCloseTo(0.9699, 4);
    expect(m1.false_release.a.ci!.lower).toBeCloseTo(0.0456, 4);
    expect(m1.false_release.a.ci!.upper).toBeCloseTo(0.6994, 4);

    const m2 = result.missions.M2;
    expect(result.overall.groups).toEqual({ a: 9, b: 8 });
    expect(m2.groups).toEqual({ a: 3, b: 2 });
    expect(m2.false_release.a).toMatchObject({ successes: 2, n: 2, rate: 1 });
    expect(m2.false_release.b).toMatchObject({ successes: 1, n: 2, rate: 0.5 });
  });

  it('computes overall rates and the b − a difference interval', () => {
    const { overall } = result;
    // A: labelled 8 (u1 excluded), matched 5; fail 6, released 3.
    expect(overall.label_match.a).toMatchObject({ successes: 5, n: 8, rate: 0.625 });
    expect(overall.false_release.a).toMatchObject({ successes: 3, n: 6, rate: 0.5 });
    // B: labelled 8, matched f1-f4 + m1 = 5; fail 6, released m2 = 1.
    expect(overall.label_match.b).toMatchObject({ successes: 5, n: 8 });
    expect(overall.false_release.b).toMatchObject({ successes: 1, n: 6 });
    const diff = overall.false_release.diff!;
    expect(diff.estimate).toBeCloseTo(1 / 6 - 0.5, 12);
    // Hand computation: Wilson 3/6 = [0.1876, 0.8124], 1/6 = [0.0301, 0.5635];
    // L = d − sqrt((1/6 − 0.0301)² + (0.8124 − 0.5)²), U = d + sqrt((0.5635 − 1/6)² + (0.5 − 0.1876)²).
    expect(diff.ci.lower).toBeCloseTo(-0.3333 - Math.sqrt(0.1366 ** 2 + 0.3124 ** 2), 3);
    expect(diff.ci.upper).toBeCloseTo(-0.3333 + Math.sqrt(0.3968 ** 2 + 0.3124 ** 2), 3);
    expect(overall.label_match.diff!.estimate).toBe(0);
  });
});
