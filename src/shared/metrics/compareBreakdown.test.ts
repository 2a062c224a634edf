import { describe, expect, it } from 'vitest';
import { selection } from '../distill/testFixtures';
import { parseStageASummary } from '../stageASummary';
import type { GroupLabel } from '../verdict';
import { changedGroups, sliceBreakdown, stageACategories } from './compareBreakdown';
import { compareRows, finalSelections } from './compareRuns';

type Row = [groupId: string, label: GroupLabel | null, verdict: GroupLabel | null, epoch?: number];
const rows = (run: string, list: Row[]) => list.map(([group_id, label, verdict, epoch = 0]) => selection({ run_name: run, group_id, label, verdict, epoch }));

// f*: label fail, p*: label pass, u1: unlabelled. b's epoch 1 supersedes its epoch 0.
const a = rows('a', [
  ['f1', 'fail', 'fail'],
  ['f2', 'fail', 'pass'],
  ['f3', 'fail', 'fail'],
  ['p1', 'pass', 'pass'],
  ['p2', 'pass', 'fail'],
  ['p3', 'pass', null],
  ['u1', null, 'pass'],
  ['onlyA', 'pass', 'pass'],
]);
const b = rows('b', [
  ['f1', 'fail', 'fail', 0],
  ['f1', 'fail', 'pass', 1], // new false release
  ['f2', 'fail', 'fail'], // fixed
  ['f3', 'fail', 'fail'],
  ['p1', 'pass', 'fail'], // broken
  ['p2', 'pass', 'pass'], // fixed
  ['p3', 'pass', 'fail'], // malformed → wrong: changed, neither matches
  ['u1', null, 'fail'], // changed, no label
  ['onlyB', 'fail', 'pass'],
]);

const CATEGORIES: Record<string, string[]> = {
  'f1::fail': ['接地线', '标签'],
  'f2::fail': ['接地线'],
  'p1::pass': ['标签'],
};
const categoriesOf = (key: string) => CATEGORIES[key] ?? [];

describe('changedGroups', () => {
  const changed = changedGroups(a, b, categoriesOf);

  it('lists the groups both sides judged whose final verdict differs, new false releases first', () => {
    expect(changed.map((row) => row.group_id)).toEqual(['f1', 'p1', 'f2', 'p2', 'p3', 'u1']);
    expect(changed.map((row) => row.change)).toEqual(['broken', 'broken', 'fixed', 'fixed', 'changed', 'changed']);
    expect(changed[0]).toMatchObject({ new_false_release: true, a: { verdict: 'fail', epoch: 0 }, b: { verdict: 'pass', epoch: 1 }, categories: ['接地线', '标签'] });
    expect(changed.filter((row) => row.new_false_release)).toHaveLength(1);
  });

  it('leaves out groups only one side judged and groups whose verdict stayed', () => {
    const ids = new Set(changed.map((row) => row.group_id));
    for (const id of ['onlyA', 'onlyB', 'f3']) expect(ids.has(id)).toBe(false);
  });
});

describe('sliceBreakdown', () => {
  const slices = sliceBreakdown(a, b, categoriesOf);
  const find = (kind: string, name: string) => slices.find((row) => row.kind === kind && row.slice === name)!;

  it('rates each label slice with the math of stageb compare, over each side\'s own groups', () => {
    const fail = find('label', 'fail');
    // A: f1 f2 f3 — 2 match, 1 released. B: f1 f2 f3 onlyB — 2 match, 2 released.
    expect(fail.row.label_match.a).toMatchObject({ successes: 2, n: 3 });
    expect(fail.row.false_release.b).toMatchObject({ successes: 2, n: 4 });
    expect(fail.row).toEqual(compareRows(finalSelections(a).filter((r) => r.label === 'fail'), finalSelections(b).filter((r) => r.label === 'fail')));
    expect(fail).toMatchObject({ common: 3, changed: 2 });
    expect(find('label', 'unlabelled')).toMatchObject({ common: 1, changed: 1 });
    expect(find('label', 'unlabelled').row.label_match.a.n).toBe(0);
  });

  it('has one row per Stage-A category, the most common first, a ticket counting in each of its categories', () => {
    expect(slices.filter((row) => row.kind === 'category').map((row) => row.slice)).toEqual(['接地线', '标签']);
    const label = find('category', '标签');
    expect(label).toMatchObject({ common: 2, changed: 2 });
    expect(label.row.groups).toEqual({ a: 2, b: 2 });
    // 标签: f1 (fail; A fail, B pass), p1 (pass; A pass, B fail).
    expect(label.row.label_match.a).toMatchObject({ successes: 2, n: 2 });
    expect(label.row.label_match.b).toMatchObject({ successes: 0, n: 2 });
    expect(label.row.false_release.b).toMatchObject({ successes: 1, n: 1 });
  });

  it('has label slices only when the Stage-A categories are unknown', () => {
    expect(sliceBreakdown(a, b, null).every((row) => row.kind === 'label')).toBe(true);
  });
});

describe('stageACategories', () => {
  it('collects the categories of every photo once, and marks an irrelevant photo', () => {
    const summaries = ['BBU设备/华为,显示完整×1，接地线/已连接×1', '无关图片', '{"统计":[{"类别":"标签","属性":["可识别"],"数量":1},{"类别":"接地线","属性":["已连接"],"数量":1}]}'].map(parseStageASummary);
    expect(stageACategories(summaries)).toEqual(['BBU设备', '接地线', '无关图片', '标签']);
  });
});
