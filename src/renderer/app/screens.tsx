import { lazy, type ComponentType, type ReactNode } from 'react';
import { RunsScreen } from '../features/runs/RunsScreen';
import { TrajectoriesScreen } from '../features/trajectories/TrajectoriesScreen';
import { GroupScreen } from '../features/group/GroupScreen';
import { QaScreen } from '../features/qa/QaScreen';
import { ChartsScreen } from '../features/charts/ChartsScreen';
import type { RouteSpec } from './route';
import type { AppStores } from './stores';

/**
 * A screen of the workbench: its URL id, sidebar title and key (null: reached from
 * another screen only), the route parameters it takes (route.ts), and how it renders
 * from the window's stores.
 */
export type ScreenEntry = RouteSpec & { title: string; key: string | null; view(stores: AppStores): ReactNode };

/** A screen whose module loads on first use (those that carry Monaco): `render` gets the loaded module. */
function lazyView<M>(load: () => Promise<M>, render: (module: M, stores: AppStores) => ReactNode): ScreenEntry['view'] {
  const View: ComponentType<{ stores: AppStores }> = lazy(async () => {
    const module = await load();
    return { default: ({ stores }: { stores: AppStores }) => <>{render(module, stores)}</> };
  });
  return (stores) => <View stores={stores} />;
}

/** Every screen, one line each, in sidebar order. A new screen: its module, and one line here. */
export const SCREENS = [
  { id: 'runs', title: 'Runs', key: '1', view: (s) => <RunsScreen stores={s.runs} /> },
  { id: 'rows', title: 'Trajectories', key: '2', view: (s) => <TrajectoriesScreen store={s.rows} group={s.group} /> },
  { id: 'reflection', title: 'Reflection', key: '3', params: ['decision'], view: lazyView(() => import('../features/reflection/ReflectionScreen'), (m, s) => <m.ReflectionScreen stores={s.reflection} />) },
  { id: 'guidance', title: 'Guidance', key: '4', view: lazyView(() => import('../features/guidance/GuidanceScreen'), (m, s) => <m.GuidanceScreen store={s.guidance} review={s.review} holdout={s.holdout} />) },
  { id: 'snapshots', title: 'Snapshots', key: '5', params: ['snapshot'], view: lazyView(() => import('../features/snapshots/SnapshotsScreen'), (m, s) => <m.SnapshotsScreen store={s.snapshots} />) },
  { id: 'qa', title: 'QA queue', key: '6', view: (s) => <QaScreen store={s.qa} reviewer={s.reviewer} /> },
  { id: 'charts', title: 'Charts', key: '7', view: (s) => <ChartsScreen store={s.charts} /> },
  { id: 'launcher', title: 'Launcher', key: '8', view: lazyView(() => import('../features/launcher/LauncherScreen'), (m, s) => <m.LauncherScreen store={s.launcher} />) },
  { id: 'review', title: 'Review queue', key: '9', view: lazyView(() => import('../features/review/ReviewScreen'), (m, s) => <m.ReviewScreen store={s.review} />) },
  { id: 'compare', title: 'Compare', key: '0', view: lazyView(() => import('../features/compare/CompareScreen'), (m) => <m.CompareScreen />) },
  { id: 'group', title: 'Group', key: null, params: ['group', 'candidate'], requires: ['group'], view: (s) => <GroupScreen store={s.group} /> },
] as const satisfies readonly ScreenEntry[];

export type ScreenId = (typeof SCREENS)[number]['id'];

export function screenOf(id: string): ScreenEntry {
  return SCREENS.find((s) => s.id === id) ?? SCREENS[0];
}
