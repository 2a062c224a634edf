import { describe, expect, it } from 'vitest';
import { linePath } from './linePath';

describe('linePath', () => {
  it('maps the x range to the box and y to [yMin, yMax] with y growing upwards', () => {
    expect(linePath([{ x: 0, y: 0 }, { x: 1, y: 1 }], { width: 100, height: 50, pad: 0, yMin: 0, yMax: 1 })).toBe('M0.0,50.0L100.0,0.0');
  });
  it('breaks the line at null values', () => {
    const d = linePath([{ x: 0, y: 0.5 }, { x: 1, y: null }, { x: 2, y: 0.5 }], { width: 20, height: 10, pad: 0, yMin: 0, yMax: 1 });
    expect(d).toBe('M0.0,5.0M20.0,5.0');
  });
  it('returns an empty path without data and centres a single point', () => {
    expect(linePath([], { width: 10, height: 10, pad: 0 })).toBe('');
    expect(linePath([{ x: 3, y: 2 }], { width: 10, height: 10, pad: 0 })).toBe('M5.0,5.0');
  });
});
