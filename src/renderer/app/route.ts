import type { RunRef } from '../../shared/api/contract';

/**
 * Where the app is, as data, and its URL. The route lives in the query string
 * (`?screen=group&run=demo&mission=…&group=QC-1&candidate=0-2`): the page's path stays
 * what the server or Electron's app:// handler serves (index.html), and the hash stays
 * free for the per-launch token (`#token=…`, read by apiToken.ts). Pure: no DOM here.
 */
export type Route = {
  screen: string;
  run: RunRef | null;
  /** The screen's own parameters (a group, a candidate, a decision, a snapshot…), by the names its registration lists. */
  params: Readonly<Record<string, string>>;
};

/** What the URL mapping needs to know of a screen: its id, the parameters it takes, and which it cannot do without. */
export type RouteSpec = {
  id: string;
  params?: readonly string[];
  requires?: readonly string[];
};

export type ParsedRoute = { route: Route; notice: string | null };

export const HOME: Route = { screen: 'runs', run: null, params: {} };

const MAX_VALUE = 400;
const RESERVED = new Set(['screen', 'run', 'mission']);

/** The query string of a route ('' for the runs list with no run), parameters in the order the screen lists them. */
export function formatRoute(route: Route, specs: readonly RouteSpec[]): string {
  const spec = specs.find((s) => s.id === route.screen);
  const query = new URLSearchParams();
  if (route.screen !== HOME.screen || route.run) query.set('screen', route.screen);
  if (route.run) {
    query.set('run', route.run.runId);
    query.set('mission', route.run.mission);
  }
  for (const name of spec?.params ?? []) {
    const value = route.params[name];
    if (value !== undefined && value !== '') query.set(name, value);
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

function fallback(notice: string, run: RunRef | null = null): ParsedRoute {
  return { route: { ...HOME, run }, notice };
}

/**
 * The route of a query string. A link that cannot be followed (an unknown screen, a run
 * without its mission, a group screen without a group) opens the runs list with a notice
 * saying why; parameters a screen does not take are ignored. Never throws.
 */
export function parseRoute(search: string, specs: readonly RouteSpec[]): ParsedRoute {
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  } catch {
    return fallback('The link could not be read; showing the runs.');
  }
  const clean = (name: string): string | null | undefined => {
    const value = query.get(name);
    if (value === null || value === '') return null;
    if (value.length > MAX_VALUE || /[\u0000-\u001f\u007f]/.test(value)) return undefined;
    return value;
  };
  const runId = clean('run');
  const mission = clean('mission');
  if (runId === undefined || mission === undefined) return fallback('The link names a run or mission that cannot be right (too long or with control characters); showing the runs.');
  if ((runId === null) !== (mission === null)) return fallback(`The link names ${runId ? `run "${runId}" but no mission` : `mission "${mission}" but no run`}; showing the runs.`);
  const run = runId && mission ? { runId, mission } : null;
  const screen = clean('screen') ?? HOME.screen;
  const spec = specs.find((s) => s.id === screen);
  if (!spec) return fallback(`The link names no screen "${screen}"; showing the runs.`, run);
  const params: Record<string, string> = {};
  for (const name of spec.params ?? []) {
    if (RESERVED.has(name)) continue;
    const value = clean(name);
    if (value === undefined) return fallback(`The link's ${name} cannot be right (too long or with control characters); showing the runs.`, run);
    if (value !== null) params[name] = value;
  }
  const missing = (spec.requires ?? []).find((name) => !(name in params));
  if (missing) return fallback(`The link to the ${screen} screen names no ${missing}; showing the runs.`, run);
  return { route: { screen, run, params }, notice: null };
}

export function sameRoute(a: Route, b: Route): boolean {
  if (a.screen !== b.screen) return false;
  if ((a.run?.runId ?? null) !== (b.run?.runId ?? null) || (a.run?.mission ?? null) !== (b.run?.mission ?? null)) return false;
  const keys = new Set([...Object.keys(a.params), ...Object.keys(b.params)]);
  for (const key of keys) if (a.params[key] !== b.params[key]) return false;
  return true;
}
