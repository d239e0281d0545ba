// Axis arithmetic for the line charts: a "nice" upper bound and ticks (1, 2, 5 × 10^n), and the
// SVG path of a series with gaps where a point has no value.

/** The smallest 1/2/5×10^n at or above `max` (1 for nothing to show). */
export function niceMax(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const exp = Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) {
    const candidate = m * 10 ** exp;
    if (candidate >= max * (1 - 1e-9)) return candidate;
  }
  return 10 ** (exp + 1);
}

export const ticksOf = (max: number, count = 4): number[] =>
  Array.from({ length: count + 1 }, (_, i) => (max * i) / count);

export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly x0: number;
  readonly x1: number;
  readonly yMax: number;
}

/** `M x,y L …` over the points with a value; a null starts a new segment. */
export function linePath(points: readonly { x: number; y: number | null }[], f: Frame): string {
  const sx = (x: number) => (f.x1 === f.x0 ? f.width : ((x - f.x0) / (f.x1 - f.x0)) * f.width);
  const sy = (y: number) => f.height - (Math.min(y, f.yMax) / f.yMax) * f.height;
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`;
    pen = true;
  }
  return d;
}
