export type ChartPoint = { x: number; y: number | null };

export type ChartBox = { width: number; height: number; pad: number; yMin?: number; yMax?: number };

/**
 * SVG path for a series; null values break the line. X spans the points' range,
 * Y the box's [yMin, yMax] (defaults: the data range, with a flat series centred).
 */
export function linePath(points: ChartPoint[], box: ChartBox): string {
  const defined = points.filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y));
  if (defined.length === 0) return '';
  const xs = points.map((p) => p.x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  let yMin = box.yMin ?? Math.min(...defined.map((p) => p.y));
  let yMax = box.yMax ?? Math.max(...defined.map((p) => p.y));
  if (yMax === yMin) {
    yMin -= 1;
    yMax += 1;
  }
  const sx = (x: number) => box.pad + (xMax === xMin ? (box.width - 2 * box.pad) / 2 : ((x - xMin) / (xMax - xMin)) * (box.width - 2 * box.pad));
  const sy = (y: number) => box.height - box.pad - ((y - yMin) / (yMax - yMin)) * (box.height - 2 * box.pad);
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
