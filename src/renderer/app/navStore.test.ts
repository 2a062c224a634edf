import { describe, expect, it } from 'vitest';
import { createNavStore } from './navStore';

const run = { runId: 'demo', mission: 'BBU接地线检查' };

describe('navStore', () => {
  it('opens a group from a list and goes back to the list', () => {
    const nav = createNavStore();
    nav.getState().selectRun(run);
    expect(nav.getState().route.screen).toBe('rows');
    nav.getState().openGroup('QC-1');
    expect(nav.getState().route).toEqual({ screen: 'group', run, params: { group: 'QC-1' } });
    nav.getState().back();
    expect(nav.getState().route.screen).toBe('rows');
    nav.getState().back();
    expect(nav.getState().route.screen).toBe('runs');
    nav.getState().back();
    expect(nav.getState().route.screen).toBe('runs');
  });
  it('does not stack the same screen twice', () => {
    const nav = createNavStore();
    nav.getState().go('qa');
    nav.getState().go('qa');
    expect(nav.getState().history).toHaveLength(1);
  });
  it('changes a selection in place, without a history entry, and keeps the run', () => {
    const nav = createNavStore();
    nav.getState().selectRun(run, 'reflection');
    nav.getState().setParam('decision', 'refl-e0-b1');
    expect(nav.getState()).toMatchObject({ lastChange: 'replace', run, route: { screen: 'reflection', params: { decision: 'refl-e0-b1' } } });
    expect(nav.getState().history).toHaveLength(1);
    nav.getState().setParam('decision', null);
    expect(nav.getState().route.params).toEqual({});
  });
  it('goes from a group with no earlier entry to its list', () => {
    const nav = createNavStore({ route: { screen: 'group', run, params: { group: 'QC-1' } } });
    nav.getState().back();
    expect(nav.getState().route).toEqual({ screen: 'rows', run, params: {} });
  });
});
