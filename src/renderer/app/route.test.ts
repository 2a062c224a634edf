import { describe, expect, it } from 'vitest';
import { formatRoute, HOME, parseRoute, sameRoute, type Route, type RouteSpec } from './route';

const SPECS: RouteSpec[] = [
  { id: 'runs' },
  { id: 'rows' },
  { id: 'group', params: ['group', 'candidate'], requires: ['group'] },
  { id: 'reflection', params: ['decision'] },
  { id: 'snapshots', params: ['snapshot'] },
  { id: 'launcher' },
];

const run = { runId: 'demo', mission: 'BBU接地线检查' };

describe('formatRoute / parseRoute', () => {
  const routes: Array<[string, Route]> = [
    ['the runs list', HOME],
    ['the runs list with a run open', { screen: 'runs', run, params: {} }],
    ['a screen without a run', { screen: 'launcher', run: null, params: {} }],
    ['a screen of a run before a run is open', { screen: 'reflection', run: null, params: {} }],
    ['the trajectories of a run', { screen: 'rows', run, params: {} }],
    ['a group', { screen: 'group', run, params: { group: 'QC-0001' } }],
    ['a group and a candidate', { screen: 'group', run, params: { group: 'QC-0001&x=1#y', candidate: '1-2' } }],
    ['a reflection decision', { screen: 'reflection', run, params: { decision: 'refl-e0-b1' } }],
    ['a snapshot', { screen: 'snapshots', run, params: { snapshot: 'step-000001.json' } }],
    ['a run id with spaces and slashes', { screen: 'rows', run: { runId: 'a b/c?', mission: '任务 一' }, params: {} }],
  ];
  it.each(routes)('round-trips %s', (_, route) => {
    const text = formatRoute(route, SPECS);
    const parsed = parseRoute(text, SPECS);
    expect(parsed.notice).toBeNull();
    expect(parsed.route).toEqual(route);
    expect(sameRoute(parsed.route, route)).toBe(true);
  });

  it('writes the runs list as no query at all, and names the screen first', () => {
    expect(formatRoute(HOME, SPECS)).toBe('');
    expect(formatRoute({ screen: 'group', run, params: { candidate: '0-1', group: 'G' } }, SPECS)).toBe(
      `?screen=group&run=demo&mission=${encodeURIComponent(run.mission)}&group=G&candidate=0-1`,
    );
  });

  it('leaves out parameters the screen does not take', () => {
    expect(formatRoute({ screen: 'rows', run, params: { group: 'G' } }, SPECS)).not.toContain('group');
    expect(parseRoute('?screen=rows&run=demo&mission=m&group=G&utm=x', SPECS).route).toEqual({ screen: 'rows', run: { runId: 'demo', mission: 'm' }, params: {} });
  });

  const bad: Array<[string, string, Route, RegExp]> = [
    ['an unknown screen', '?screen=nope&run=demo&mission=m', { screen: 'runs', run: { runId: 'demo', mission: 'm' }, params: {} }, /no screen "nope"/],
    ['a run without a mission', '?screen=rows&run=demo', HOME, /no mission/],
    ['a mission without a run', '?screen=rows&mission=m', HOME, /no run/],
    ['a group screen without a group', '?screen=group&run=demo&mission=m&candidate=1', { screen: 'runs', run: { runId: 'demo', mission: 'm' }, params: {} }, /no group/],
    ['a control character', '?screen=group&run=demo&mission=m&group=%00x', { screen: 'runs', run: { runId: 'demo', mission: 'm' }, params: {} }, /group cannot be right/],
    ['an overlong run id', `?screen=rows&run=${'r'.repeat(500)}&mission=m`, HOME, /cannot be right/],
    ['broken percent-encoding', '?screen=%E0%A4%A&run=%&mission=m', { screen: 'runs', run: { runId: '%', mission: 'm' }, params: {} }, /no screen/],
  ];
  it.each(bad)('falls back to the runs list with a notice on %s', (_, search, route, notice) => {
    const parsed = parseRoute(search, SPECS);
    expect(parsed.route).toEqual(route);
    expect(parsed.notice).toMatch(notice);
  });

  it('reads an empty or bare query as the runs list, without a notice', () => {
    for (const search of ['', '?', '?utm_source=mail']) expect(parseRoute(search, SPECS)).toEqual({ route: HOME, notice: null });
  });

  it('tells routes apart by screen, run and each parameter', () => {
    const a: Route = { screen: 'group', run, params: { group: 'G', candidate: '0-1' } };
    expect(sameRoute(a, { ...a, params: { group: 'G' } })).toBe(false);
    expect(sameRoute(a, { ...a, run: { ...run, mission: 'other' } })).toBe(false);
    expect(sameRoute(a, { ...a, screen: 'reflection' })).toBe(false);
    expect(sameRoute(a, { ...a, params: { candidate: '0-1', group: 'G' } })).toBe(true);
  });
});
