import { formatRoute, parseRoute, type RouteSpec } from './route';
import type { NavStore } from './navStore';

type HistoryWindow = {
  location: { pathname: string; search: string; hash: string };
  history: { state: unknown; pushState(state: unknown, unused: string, url: string): void; replaceState(state: unknown, unused: string, url: string): void; back(): void };
  addEventListener(type: 'popstate', listener: () => void): void;
  removeEventListener(type: 'popstate', listener: () => void): void;
};

/** How many of the app's own entries lie before this one in the tab's history (0: the page was opened here). */
function depthOf(state: unknown): number {
  const depth = (state as { stagebDepth?: unknown } | null)?.stagebDepth;
  return typeof depth === 'number' && Number.isInteger(depth) && depth > 0 ? depth : 0;
}

/**
 * Ties the nav store to the address bar: the page's URL opens its route (a link that
 * cannot be followed opens the runs list with a notice), every route change is written
 * back (pushState for a new screen, run or group; replaceState for a selection inside a
 * screen), and Back / Forward (popstate) move the app. The path and the hash are left as
 * they are: the path is what serves index.html, the hash is the token's (apiToken.ts).
 */
export function connectUrl(nav: NavStore, specs: readonly RouteSpec[], win: HistoryWindow): () => void {
  const urlOf = (search: string) => `${win.location.pathname}${search}${win.location.hash}`;
  let depth = depthOf(win.history.state);

  const follow = () => {
    const { route, notice } = parseRoute(win.location.search, specs);
    nav.getState().navigate(route, 'pop');
    nav.getState().setNotice(notice);
    return route;
  };

  const opened = follow();
  // The link as the app writes it (a bad one becomes the runs list's), marked with its depth.
  win.history.replaceState({ stagebDepth: depth }, '', urlOf(formatRoute(opened, specs)));

  const unsubscribe = nav.subscribe((state, previous) => {
    if (state.route === previous.route || state.lastChange === 'pop') return;
    const search = formatRoute(state.route, specs);
    if (state.lastChange === 'push') {
      depth += 1;
      win.history.pushState({ stagebDepth: depth }, '', urlOf(search));
      // A new place: an old link's notice no longer applies.
      if (state.notice !== null) nav.getState().setNotice(null);
    } else {
      win.history.replaceState({ stagebDepth: depth }, '', urlOf(search));
    }
  });

  const onPopState = () => {
    depth = depthOf(win.history.state);
    follow();
  };
  win.addEventListener('popstate', onPopState);
  nav.setState({
    browserBack: () => {
      if (depth === 0) return false;
      win.history.back();
      return true;
    },
  });

  return () => {
    unsubscribe();
    win.removeEventListener('popstate', onPopState);
    nav.setState({ browserBack: null });
  };
}
