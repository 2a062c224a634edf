import { lazy, Suspense, useEffect } from 'react';
import { useStore } from 'zustand';
import { isTypingTarget } from '../shared/keyboard/listNavigation';
import { ShortcutsOverlay } from '../shared/ui/ShortcutsOverlay';
import { RunsScreen } from '../features/runs/RunsScreen';
import { TrajectoriesScreen } from '../features/trajectories/TrajectoriesScreen';
import { GroupScreen } from '../features/group/GroupScreen';
import { QaScreen } from '../features/qa/QaScreen';
import { ChartsScreen } from '../features/charts/ChartsScreen';
import { ReviewerBadge, ReviewerDialog } from '../shared/reviewer/ReviewerDialog';
import { navStore, SCREENS, type Screen } from './navStore';
import type { AppStores } from './stores';

// Screens that carry Monaco load it on first use; the lists open without it.
const ReflectionScreen = lazy(() => import('../features/reflection/ReflectionScreen').then((m) => ({ default: m.ReflectionScreen })));
const GuidanceScreen = lazy(() => import('../features/guidance/GuidanceScreen').then((m) => ({ default: m.GuidanceScreen })));
const SnapshotsScreen = lazy(() => import('../features/snapshots/SnapshotsScreen').then((m) => ({ default: m.SnapshotsScreen })));
const ReviewScreen = lazy(() => import('../features/review/ReviewScreen').then((m) => ({ default: m.ReviewScreen })));
const LauncherScreen = lazy(() => import('../features/launcher/LauncherScreen').then((m) => ({ default: m.LauncherScreen })));

function ScreenView({ screen, stores }: { screen: Screen; stores: AppStores }) {
  switch (screen) {
    case 'runs': return <RunsScreen stores={stores.runs} />;
    case 'rows': return <TrajectoriesScreen store={stores.rows} group={stores.group} />;
    case 'group': return <GroupScreen store={stores.group} />;
    case 'reflection': return <ReflectionScreen stores={stores.reflection} />;
    case 'guidance': return <GuidanceScreen store={stores.guidance} review={stores.review} holdout={stores.holdout} />;
    case 'snapshots': return <SnapshotsScreen store={stores.snapshots} />;
    case 'qa': return <QaScreen store={stores.qa} reviewer={stores.reviewer} />;
    case 'charts': return <ChartsScreen store={stores.charts} />;
    case 'launcher': return <LauncherScreen store={stores.launcher} />;
    case 'review': return <ReviewScreen store={stores.review} />;
  }
}

export function App({ stores }: { stores: AppStores }) {
  const route = useStore(navStore, (s) => s.route);
  const run = useStore(navStore, (s) => s.run);
  const helpOpen = useStore(navStore, (s) => s.helpOpen);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const nav = navStore.getState();
      if (event.key === 'Escape') {
        if (nav.helpOpen) nav.setHelp(false);
        else if (document.querySelector('[role="dialog"]')) return;
        else if (!isTypingTarget(event.target as HTMLElement) && nav.route.screen === 'group') nav.back();
        return;
      }
      if (isTypingTarget(event.target as HTMLElement)) return;
      if (event.key === '?') {
        event.preventDefault();
        nav.setHelp(!nav.helpOpen);
        return;
      }
      if (nav.helpOpen) return;
      if (event.key === '/') {
        const search = document.querySelector<HTMLInputElement>('input[type="search"]');
        if (search) {
          event.preventDefault();
          search.focus();
        }
        return;
      }
      const target = SCREENS.find((s) => s.key === event.key);
      if (target) {
        event.preventDefault();
        nav.go(target.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <nav className="sidebar" aria-label="Screens">
        <div className="brand">Stage-B Workbench</div>
        {run ? <div className="current-run" data-testid="current-run"><strong>{run.runId}</strong><span>{run.mission}</span></div> : <div className="current-run muted">no run open</div>}
        <ul>
          {SCREENS.map((s) => (
            <li key={s.id}>
              <button className={route.screen === s.id ? 'active' : undefined} aria-current={route.screen === s.id ? 'page' : undefined}
                onClick={() => navStore.getState().go(s.id)} data-testid={`nav-${s.id}`}>
                <kbd>{s.key}</kbd> {s.title}
              </button>
            </li>
          ))}
        </ul>
        <ReviewerBadge store={stores.reviewer} />
        <button className="help-button" onClick={() => navStore.getState().setHelp(true)}><kbd>?</kbd> Shortcuts</button>
      </nav>
      <main className="content">
        <Suspense fallback={<p className="muted" role="status">Loading…</p>}>
          <ScreenView screen={route.screen} stores={stores} />
        </Suspense>
      </main>
      {helpOpen && <ShortcutsOverlay onClose={() => navStore.getState().setHelp(false)} />}
      <ReviewerDialog store={stores.reviewer} />
    </div>
  );
}
