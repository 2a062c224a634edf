import { createStore } from 'zustand/vanilla';
import type { RunRef } from '../../shared/api/contract';
import { HOME, sameRoute, type Route } from './route';
import type { ScreenId } from './screens';

export type { Route } from './route';
export type Screen = ScreenId;

/**
 * How the last route change should reach the address bar: `push` makes a history entry
 * (another screen, run or group), `replace` rewrites the current one (a selection inside a
 * screen: a candidate, a decision, a snapshot), `pop` came from the address bar itself.
 */
export type RouteChange = 'push' | 'replace' | 'pop';

export type NavState = {
  route: Route;
  /** route.run, kept as its own field so screens can select just the run. */
  run: RunRef | null;
  lastChange: RouteChange;
  /** In-memory history, used where no browser history is connected (tests). */
  history: Route[];
  /** Why the last link could not be followed as written; shown until dismissed. */
  notice: string | null;
  helpOpen: boolean;
  /** Set by urlSync: goes back through the browser's history; false when the app has no earlier entry there. */
  browserBack: (() => boolean) | null;
  go(screen: Screen, params?: Record<string, string>): void;
  selectRun(run: RunRef, screen?: Screen): void;
  openGroup(groupId: string, candidate?: string | null): void;
  /** Changes one parameter of the current screen (a selection), replacing the history entry. */
  setParam(name: string, value: string | null): void;
  navigate(route: Route, change: RouteChange): void;
  back(): void;
  setNotice(notice: string | null): void;
  setHelp(open: boolean): void;
};

/** Where Back goes when there is no earlier entry: a group's list, else the runs. */
function parentOf(route: Route): Route | null {
  if (route.screen === 'group') return { screen: 'rows', run: route.run, params: {} };
  return null;
}

/**
 * The current route. The address bar mirrors it (urlSync.ts): every screen, run, group,
 * candidate, decision and snapshot has a URL, and Back / Forward move through the app.
 */
export function createNavStore(initial: Partial<Pick<NavState, 'route'>> = {}) {
  return createStore<NavState>()((set, get) => {
    function move(route: Route, change: RouteChange) {
      const { route: current, history } = get();
      if (sameRoute(route, current)) return;
      set({
        route,
        run: route.run,
        lastChange: change,
        history: change === 'push' ? [...history, current].slice(-50) : history,
      });
    }
    const start = initial.route ?? HOME;
    return {
      route: start,
      run: start.run,
      lastChange: 'replace',
      history: [],
      notice: null,
      helpOpen: false,
      browserBack: null,
      go(screen, params = {}) {
        move({ screen, run: get().route.run, params }, 'push');
      },
      selectRun(run, screen = 'rows') {
        move({ screen, run, params: {} }, 'push');
      },
      openGroup(groupId, candidate = null) {
        move({ screen: 'group', run: get().route.run, params: candidate ? { group: groupId, candidate } : { group: groupId } }, 'push');
      },
      setParam(name, value) {
        const { route } = get();
        const { [name]: _old, ...rest } = route.params;
        move({ ...route, params: value === null ? rest : { ...rest, [name]: value } }, 'replace');
      },
      navigate(route, change) {
        move(route, change);
      },
      back() {
        const { browserBack, history, route } = get();
        if (browserBack?.()) return;
        const previous = browserBack ? undefined : history[history.length - 1];
        if (previous) {
          set({ route: previous, run: previous.run, lastChange: 'pop', history: history.slice(0, -1) });
          return;
        }
        const parent = parentOf(route);
        if (parent) move(parent, 'push');
      },
      setNotice(notice) {
        set({ notice });
      },
      setHelp(open) {
        set({ helpOpen: open });
      },
    };
  });
}

export type NavStore = ReturnType<typeof createNavStore>;
export const navStore = createNavStore();
