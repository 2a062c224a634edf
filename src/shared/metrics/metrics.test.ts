import { describe, expect, it } from 'vitest';
import { rates } from './rates';
import { pairedBootstrapUpliftProbability } from './pairedBootstrapUpliftProbability';
import { wilsonInterval } from './wilsonInterval';
import { differenceInterval } from './differenceInterval';
import { pairedBootstrap } from './pairedBootstrap';

describe('rates', () => {
  it('computes label match and false release by hand-counted rows', () => {
    const r = rates([
      { label: 'pass', verdict: 'pass' }, // match
      { label: 'pass', verdict: 'fail' }, // mismatch
      { label: 'fail', verdict: 'fail' }, // match
      { label: 'fail', verdict: 'pass' }, // mismatch + release
      { label: 'fail', verdict: null }, // mismatch, not a release
      { label: null, verdict: 'pass' }, // ignored
    ]);
    expect(r.labelled).toBe(5);
    expect(r.label_match_rate).toBeCloseTo(2 / 5, 12);
    expect(r.false_release_rate).toBeCloseTo(1 / 3, 12);
  });

  it('returns null rates for empty denominators', () => {
    expect(rates([])).toEqual({ label_match_rate: null, false_release_rate: null, labelled: 0 });
    expect(rates([{ label: 'pass', verdict: 'pass' }])).toEqual({ label_match_rate: 1, false_release_rate: null, labelled: 1 });
  });
});

describe('wilsonInterval', () => {
  it('matches the textbook value for 8/10', () => {
    const w = wilsonInterval(8, 10);
    expect(w.estimate).toBe(0.8);
    expect(w.lower).toBeCloseTo(0.4902, 4);
    expect(w.upper).toBeCloseTo(0.9433, 4);
  });
  it('stays inside [0,1] at the edges and is uninformative for n=0', () => {
    const zero = wilsonInterval(0, 5);
    expect(zero.lower).toBe(0);
    expect(zero.upper).toBeCloseTo(0.4345, 4);
    const all = wilsonInterval(5, 5);
    expect(all.upper).toBe(1);
    expect(all.lower).toBeCloseTo(0.5655, 4);
    expect(wilsonInterval(0, 0)).toEqual({ estimate: null, lower: 0, upper: 1 });
  });
  it('rejects impossible counts', () => {
    expect(() => wilsonInterval(6, 5)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 5)).toThrow(RangeError);
  });
});

describe('differenceInterval', () => {
  it("reproduces Newcombe's (1998) worked example 56/70 vs 48/80", () => {
    const d = differenceInterval(56, 70, 48, 80);
    expect(d.estimate).toBeCloseTo(0.2, 12);
    expect(d.lower).toBeCloseTo(0.0524, 4);
    expect(d.upper).toBeCloseTo(0.3339, 4);
  });
  it('is unknown when a side is empty', () => {
    expect(differenceInterval(1, 2, 0, 0)).toEqual({ estimate: null, lower: -1, upper: 1 });
  });
});

describe('pairedBootstrapUpliftProbability', () => {
  it('is 1 when the candidate fixes items and breaks none, 0 when nothing changes', () => {
    expect(pairedBootstrapUpliftProbability([false, false, false], [true, true, true], 500, 1)).toBe(1);
    // One unchanged item of three: a resample of only that item (1/27) shows no uplift.
    const p = pairedBootstrapUpliftProbability([false, true, false], [true, true, true], 20000, 3);
    expect(Math.abs(p - 26 / 27)).toBeLessThan(0.01);
    expect(pairedBootstrapUpliftProbability([false, true, false], [false, true, false], 500, 1)).toBe(0);
    expect(pairedBootstrapUpliftProbability([], [], 500, 1)).toBe(0);
  });
  it('approaches the exact resampling probability (diff [1,0] -> 1 - 1/4)', () => {
    const p = pairedBootstrapUpliftProbability([false, true], [true, true], 20000, 7);
    expect(p).toBeGreaterThan(0.73);
    expect(p).toBeLessThan(0.77);
  });
  it('is deterministic for a seed and depends on it', () => {
    const base = [true, false, true, false, true, false, false, true, false, true];
    const cand = [true, true, false, true, true, false, true, true, false, false];
    const a = pairedBootstrapUpliftProbability(base, cand, 1000, 42);
    const b = pairedBootstrapUpliftProbability(base, cand, 1000, 42);
    expect(a).toBe(b);
    const others = [1, 2, 3, 4, 5].map((s) => pairedBootstrapUpliftProbability(base, cand, 1000, s));
    expect(new Set([a, ...others]).size).toBeGreaterThan(1);
  });
  it('rejects unpaired inputs', () => {
    expect(() => pairedBootstrapUpliftProbability([true], [true, false], 10, 1)).toThrow(RangeError);
  });
});

describe('pairedBootstrap', () => {
  it('gives the observed difference, a percentile interval around it and the gate probability', () => {
    const base = [false, false, true, true, false, true, false, false];
    const cand = [true, true, true, false, true, true, false, true];
    const b = pairedBootstrap(base, cand, 4000, 9);
    // 4 fixed, 1 broken of 8: +3/8.
    expect(b.estimate).toBeCloseTo(3 / 8, 12);
    expect(b.n).toBe(8);
    expect(b.lower!).toBeLessThanOrEqual(b.estimate!);
    expect(b.upper!).toBeGreaterThanOrEqual(b.estimate!);
    expect(b.lower!).toBeGreaterThan(-1);
    expect(b.upper!).toBeLessThanOrEqual(1);
    expect(b.probabilityPositive).toBe(pairedBootstrapUpliftProbability(base, cand, 4000, 9));
  });
  it('collapses to the point when nothing changes and is empty without items', () => {
    expect(pairedBootstrap([true, false], [true, false], 100, 1)).toEqual({ estimate: 0, lower: 0, upper: 0, probabilityPositive: 0, n: 2 });
    expect(pairedBootstrap([], [], 100, 1)).toEqual({ estimate: null, lower: null, upper: null, probabilityPositive: 0, n: 0 });
  });
  it('puts an all-improving change at +1 with no doubt', () => {
    const b = pairedBootstrap([false, false, false], [true, true, true], 200, 2);
    expect(b).toEqual({ estimate: 1, lower: 1, upper: 1, probabilityPositive: 1, n: 3 });
  });
});
