import { Suspense, useEffect } from 'react';
import { useStore } from 'zustand';
import { isTypingTarget } from '../shared/keyboard/listNavigation';
import { leaveSearchField } from '../shared/keyboard/leaveSearchField';
import { ShortcutsOverlay } from '../shared/ui/ShortcutsOverlay';
import { ReviewerBadge, ReviewerDialog } from '../shared/reviewer/ReviewerDialog';
import { hasPreloadBridge } from './apiClient';
import { tokenStore } from './apiToken';
import { navStore } from './navStore';
import { SCREENS, screenOf } from './screens';
import type { AppStores } from './stores';
import { TokenPage } from './TokenPage';

export function App({ stores }: { stores: AppStores }) {
  const route = useStore(navStore, (s) => s.route);
  const run = useStore(navStore, (s) => s.run);
  const helpOpen = useStore(navStore, (s) => s.helpOpen);
  const notice = useStore(navStore, (s) => s.notice);
  const token = useStore(tokenStore);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const nav = navStore.getState();
      if (event.key === 'Escape') {
        if (nav.helpOpen) nav.setHelp(false);
        else if (document.querySelector('[role="dialog"]')) return;
        else if (leaveSearchField(event.target as HTMLElement | null)) event.preventDefault();
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

  if (!hasPreloadBridge() && (token.token === null || token.rejected)) return <TokenPage refused={token.token !== null} />;

  return (
    <div className="app">
      <nav className="sidebar" aria-label="Screens">
        <div className="brand">Stage-B Workbench</div>
        {run ? <div className="current-run" data-testid="current-run"><strong>{run.runId}</strong><span>{run.mission}</span></div> : <div className="current-run muted">no run open</div>}
        <ul>
          {SCREENS.filter((s) => s.key !== null).map((s) => (
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
      <main className="content" tabIndex={-1}>
        {notice && (
          <div className="banner warn" role="alert" data-testid="route-notice">
            {notice} <button className="link" onClick={() => navStore.getState().setNotice(null)}>Dismiss</button>
          </div>
        )}
        <Suspense fallback={<p className="muted" role="status">Loading…</p>}>
          {screenOf(route.screen).view(stores)}
        </Suspense>
      </main>
      {helpOpen && <ShortcutsOverlay onClose={() => navStore.getState().setHelp(false)} />}
      <ReviewerDialog store={stores.reviewer} />
    </div>
  );
}
