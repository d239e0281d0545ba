import { describe, expect, it } from 'vitest';
import { linePath, niceMax, ticksOf } from './chart-scale.js';

describe('chart scales', () => {
  it('rounds the top of the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.7, 1, 3, 7, 12, 99, 101, NaN].map(niceMax)).toEqual([1, 1, 1, 5, 10, 20, 100, 200, 1]);
    expect(ticksOf(20)).toEqual([0, 5, 10, 15, 20]);
  });

  it('draws a path with gaps for missing values and clamps above the axis', () => {
    const f = { width: 100, height: 50, x0: 0, x1: 4, yMax: 10 };
    const d = linePath(
      [
        { x: 0, y: 0 },
        { x: 1, y: 5 },
        { x: 2, y: null },
        { x: 3, y: 10 },
        { x: 4, y: 20 },
      ],
      f,
    );
    expect(d).toBe('M0.0,50.0L25.0,25.0M75.0,0.0L100.0,0.0');
  });
});
