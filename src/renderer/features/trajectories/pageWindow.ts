/** Which pages of a server-side list cover the visible rows (plus overscan). Pure. */
export function pagesForRange(start: number, end: number, pageSize: number, total: number | null): number[] {
  if (end < start) return [];
  const last = total === null ? end : Math.min(end, total - 1);
  if (last < start || last < 0) return total === null ? [Math.floor(Math.max(start, 0) / pageSize)] : [];
  const pages: number[] = [];
  for (let page = Math.floor(Math.max(start, 0) / pageSize); page <= Math.floor(last / pageSize); page += 1) pages.push(page);
  return pages;
}

/** Keeps the cache bounded: drop the pages farthest from the one in view. */
export function evictPages(pages: number[], keep: number, focusPage: number): number[] {
  if (pages.length <= keep) return [];
  return [...pages].sort((a, b) => Math.abs(b - focusPage) - Math.abs(a - focusPage)).slice(0, pages.length - keep);
}
