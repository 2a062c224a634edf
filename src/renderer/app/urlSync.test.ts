import { describe, expect, it } from 'vitest';
import { createNavStore } from './navStore';
import type { RouteSpec } from './route';
import { connectUrl } from './urlSync';

const SPECS: RouteSpec[] = [
  { id: 'runs' }, { id: 'rows' }, { id: 'qa' },
  { id: 'group', params: ['group', 'candidate'], requires: ['group'] },
  { id: 'reflection', params: ['decision'] },
];

/** A tab's session history, as the browser keeps it: entries, an index, popstate on back/forward. */
function fakeWindow(start: string) {
  const listeners = new Set<() => void>();
  const entries: Array<{ url: URL; state: unknown }> = [{ url: new URL(start), state: null }];
  let index = 0;
  const at = () => entries[index];
  const win = {
    location: {
      get pathname() { return at().url.pathname; },
      get search() { return at().url.search; },
      get hash() { return at().url.hash; },
    },
    history: {
      get state() { return at().state; },
      pushState(state: unknown, _: string, url: string) {
        entries.splice(index + 1, entries.length, { url: new URL(url, at().url), state });
        index += 1;
      },
      replaceState(state: unknown, _: string, url: string) {
        entries[index] = { url: new URL(url, at().url), state };
      },
      back() { go(-1); },
    },
    addEventListener(_: 'popstate', listener: () => void) { listeners.add(listener); },
    removeEventListener(_: 'popstate', listener: () => void) { listeners.delete(listener); },
  };
  function go(delta: number) {
    const next = index + delta;
    if (next < 0 || next >= entries.length) return;
    index = next;
    for (const listener of listeners) listener();
  }
  return { win, entries, forward: () => go(1), back: () => go(-1), url: () => at().url.toString() };
}

const run = { runId: 'demo', mission: 'm' };

describe('connectUrl', () => {
  it('opens the route of the link, keeps path and hash, and writes each move back', () => {
    const tab = fakeWindow('http://127.0.0.1:4100/?screen=group&run=demo&mission=m&group=G7&candidate=1-2#token=t');
    const nav = createNavStore();
    connectUrl(nav, SPECS, tab.win);
    expect(nav.getState().route).toEqual({ screen: 'group', run, params: { group: 'G7', candidate: '1-2' } });
    expect(nav.getState().run).toEqual(run);
    nav.getState().setParam('candidate', '0-1');
    expect(tab.url()).toBe('http://127.0.0.1:4100/?screen=group&run=demo&mission=m&group=G7&candidate=0-1#token=t');
    expect(tab.entries).toHaveLength(1);
    nav.getState().go('qa');
    expect(tab.url()).toBe('http://127.0.0.1:4100/?screen=qa&run=demo&mission=m#token=t');
    expect(tab.entries).toHaveLength(2);
  });

  it('moves the app with Back and Forward, and back() goes through the browser history', () => {
    const tab = fakeWindow('http://h/');
    const nav = createNavStore();
    connectUrl(nav, SPECS, tab.win);
    nav.getState().selectRun(run);
    nav.getState().openGroup('G1');
    nav.getState().go('reflection');
    nav.getState().setParam('decision', 'refl-e0-b1');
    tab.back();
    expect(nav.getState().route).toEqual({ screen: 'group', run, params: { group: 'G1' } });
    nav.getState().back();
    expect(nav.getState().route).toEqual({ screen: 'rows', run, params: {} });
    tab.forward();
    tab.forward();
    expect(nav.getState().route).toEqual({ screen: 'reflection', run, params: { decision: 'refl-e0-b1' } });
    // A move after Back drops the forward entries, as browsers do.
    tab.back();
    nav.getState().go('qa');
    expect(tab.entries.map((e) => e.url.searchParams.get('screen'))).toEqual([null, 'rows', 'group', 'qa']);
  });

  it('goes from a group opened by a link back to its list, not out of the app', () => {
    const tab = fakeWindow('http://h/?screen=group&run=demo&mission=m&group=G1');
    const nav = createNavStore();
    connectUrl(nav, SPECS, tab.win);
    nav.getState().back();
    expect(nav.getState().route).toEqual({ screen: 'rows', run, params: {} });
    expect(tab.entries).toHaveLength(2);
  });

  it('opens the runs list with a notice for a link it cannot follow, and rewrites the address', () => {
    const tab = fakeWindow('http://h/?screen=nowhere&run=demo&mission=m#token=t');
    const nav = createNavStore();
    connectUrl(nav, SPECS, tab.win);
    expect(nav.getState().route).toEqual({ screen: 'runs', run, params: {} });
    expect(nav.getState().notice).toMatch(/no screen "nowhere"/);
    expect(tab.url()).toBe('http://h/?screen=runs&run=demo&mission=m#token=t');
    nav.getState().go('rows');
    expect(nav.getState().notice).toBeNull();
  });

  it('keeps the depth across a reload, so Back still stays in the app', () => {
    const tab = fakeWindow('http://h/');
    const first = createNavStore();
    const disconnect = connectUrl(first, SPECS, tab.win);
    first.getState().selectRun(run);
    first.getState().openGroup('G1');
    disconnect();
    const reloaded = createNavStore();
    connectUrl(reloaded, SPECS, tab.win);
    expect(reloaded.getState().route.params).toEqual({ group: 'G1' });
    reloaded.getState().back();
    expect(reloaded.getState().route).toEqual({ screen: 'rows', run, params: {} });
    expect(tab.entries).toHaveLength(3);
  });
});
