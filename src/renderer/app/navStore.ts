import { createStore } from 'zustand/vanilla';
import type { RunRef } from '../../shared/api/contract';

export const SCREENS = [
  { id: 'runs', title: 'Runs', key: '1' },
  { id: 'rows', title: 'Trajectories', key: '2' },
  { id: 'reflection', title: 'Reflection', key: '3' },
  { id: 'guidance', title: 'Guidance', key: '4' },
  { id: 'snapshots', title: 'Snapshots', key: '5' },
  { id: 'qa', title: 'QA queue', key: '6' },
  { id: 'charts', title: 'Charts', key: '7' },
  { id: 'launcher', title: 'Launcher', key: '8' },
  { id: 'review', title: 'Review queue', key: '9' },
  { id: 'compare', title: 'Compare', key: '0' },
] as const;

export type Screen = (typeof SCREENS)[number]['id'] | 'group';

export type Route = { screen: Screen; groupId: string | null };

export type NavState = {
  route: Route;
  run: RunRef | null;
  history: Route[];
  helpOpen: boolean;
  go(screen: Screen): void;
  selectRun(run: RunRef, screen?: Screen): void;
  openGroup(groupId: string): void;
  back(): void;
  setHelp(open: boolean): void;
};

/** Navigation lives in memory: location.hash carries the API token and is not ours to rewrite. */
export function createNavStore(initial: Partial<Pick<NavState, 'route' | 'run'>> = {}) {
  return createStore<NavState>()((set, get) => ({
    route: initial.route ?? { screen: 'runs', groupId: null },
    run: initial.run ?? null,
    history: [],
    helpOpen: false,
    go(screen) {
      const { route, history } = get();
      if (route.screen === screen && screen !== 'group') return;
      set({ route: { screen, groupId: screen === 'group' ? route.groupId : null }, history: [...history, route].slice(-50) });
    },
    selectRun(run, screen = 'rows') {
      const { route, history } = get();
      set({ run, route: { screen, groupId: null }, history: [...history, route].slice(-50) });
    },
    openGroup(groupId) {
      const { route, history } = get();
      set({ route: { screen: 'group', groupId }, history: [...history, route].slice(-50) });
    },
    back() {
      const { history } = get();
      const previous = history[history.length - 1];
      if (!previous) return;
      set({ route: previous, history: history.slice(0, -1) });
    },
    setHelp(open) {
      set({ helpOpen: open });
    },
  }));
}

export type NavStore = ReturnType<typeof createNavStore>;
export const navStore = createNavStore();
