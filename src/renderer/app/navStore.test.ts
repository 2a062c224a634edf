import { describe, expect, it } from 'vitest';
import { createNavStore } from './navStore';

describe('navStore', () => {
  it('opens a group from a list and goes back to the list', () => {
    const nav = createNavStore();
    nav.getState().selectRun({ runId: 'demo', mission: 'BBU接地线检查' });
    expect(nav.getState().route.screen).toBe('rows');
    nav.getState().openGroup('QC-1');
    expect(nav.getState().route).toEqual({ screen: 'group', groupId: 'QC-1' });
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
});
