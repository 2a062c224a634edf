import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  looksLikeStageASummary,
  parseStageASummary,
  renderStageASummaryJson,
  renderStageASummaryText,
  StageASummarySchema,
} from './stageASummary';

describe('parseStageASummary', () => {
  it('parses the old text form with levels, counts and review remarks', () => {
    const text = 'BBU设备/华为,只显示部分,无需安装×1，光纤/有保护措施,弯曲半径合理/铠装×2，BBU设备/需复核备注:无法判断品牌,形状特殊,无法框全×1';
    const summary = parseStageASummary(text);
    expect(summary.format).toBe('text');
    expect(summary.entries).toEqual([
      { category: 'BBU设备', attributes: ['华为', '只显示部分', '无需安装'], count: 1 },
      { category: '光纤', attributes: ['有保护措施', '弯曲半径合理', '铠装'], count: 2 },
      { category: 'BBU设备', attributes: [], count: 1 },
    ]);
    expect(summary.remarks).toEqual(['无法判断品牌,形状特殊,无法框全']);
    expect(summary.review_marker).toBe(true);
    expect(summary.raw).toBe(text);
  });

  it('keeps a remark without a review marker as a remark only', () => {
    const summary = parseStageASummary('螺丝/BBU端光纤插头,符合要求,备注:部分遮挡×3');
    expect(summary.entries).toEqual([{ category: '螺丝', attributes: ['BBU端光纤插头', '符合要求'], count: 3 }]);
    expect(summary.remarks).toEqual(['部分遮挡']);
    expect(summary.review_marker).toBe(false);
  });

  it('recognises 无关图片 with and without a count', () => {
    expect(parseStageASummary('无关图片').format).toBe('irrelevant');
    expect(parseStageASummary(' 无关图片×1 ').format).toBe('irrelevant');
  });

  it('parses the JSON form and its tolerated variants', () => {
    const summary = parseStageASummary(
      JSON.stringify({ 统计: [{ 类别: '接地线', 属性: '已连接/线径合规', 数量: '2' }, { 类别: '螺丝', 品牌: '华为', 属性: ['接地端子'] }], 备注: '需复核:遮挡', 分组统计: { 接地: 3 } }),
    );
    expect(summary.format).toBe('json');
    expect(summary.entries).toEqual([
      { category: '接地线', attributes: ['已连接', '线径合规'], count: 2 },
      { category: '螺丝', attributes: ['接地端子', '华为'], count: 1 },
    ]);
    expect(summary.remarks).toEqual(['需复核:遮挡']);
    expect(summary.review_marker).toBe(true);
    expect(parseStageASummary('{"统计":{"接地线":2}}').entries).toEqual([{ category: '接地线', attributes: [], count: 2 }]);
  });

  it('classifies free text, broken JSON and empty strings as unknown', () => {
    expect(parseStageASummary('图片模糊').format).toBe('unknown');
    expect(parseStageASummary('{"统计": [').format).toBe('unknown');
    expect(parseStageASummary('{"a":1}').format).toBe('unknown');
    expect(parseStageASummary('   ').format).toBe('unknown');
  });

  it('never throws and always returns a schema-valid summary', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.json(), fc.constantFrom('×', '/', '，', '备注:', '{"统计":null}', '{"统计":[1,null,{}]}')), (text) => {
        const summary = parseStageASummary(text);
        expect(StageASummarySchema.safeParse(summary).success).toBe(true);
        expect(summary.raw).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  const token = fc.stringMatching(/^[A-Za-z0-9\u4e00-\u4e2f\-()]{1,8}$/).filter((t) => !/需(要)?复核|备注|无关图片/.test(t));
  const entryArb = fc.record({ category: token, attributes: fc.array(token, { maxLength: 4 }), count: fc.integer({ min: 0, max: 99 }) });

  it('round-trips generated entries through the text form', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 6 }), (entries) => {
        const summary = parseStageASummary(renderStageASummaryText(entries));
        expect(summary.format).toBe('text');
        expect(summary.entries).toEqual(entries);
        expect(summary.review_marker).toBe(false);
      }),
    );
  });

  it('round-trips generated entries through the JSON form', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 6 }), fc.array(token, { maxLength: 2 }), (entries, remarks) => {
        const summary = parseStageASummary(renderStageASummaryJson(entries, { remarks }));
        expect(summary.format).toBe('json');
        expect(summary.entries).toEqual(entries);
        expect(summary.remarks).toEqual(remarks);
      }),
    );
  });

  it('round-trips review markers and remarks in both forms', () => {
    const entries = [{ category: '防水胶带', attributes: [], count: 1, review: true, remark: '部分遮挡,无法判断' }];
    for (const text of [renderStageASummaryText(entries), renderStageASummaryJson(entries)]) {
      const summary = parseStageASummary(text);
      expect(summary.review_marker).toBe(true);
      expect(summary.remarks).toEqual(['部分遮挡,无法判断']);
      expect(summary.entries).toEqual([{ category: '防水胶带', attributes: [], count: 1 }]);
    }
  });
});

describe('looksLikeStageASummary', () => {
  it('flags summary-shaped text', () => {
    expect(looksLikeStageASummary('BBU设备/华为,显示完整×1')).toBe(true);
    expect(looksLikeStageASummary('见 image_3 的接地线')).toBe(true);
    expect(looksLikeStageASummary('标签/5G-BBU-接地线')).toBe(true);
    expect(looksLikeStageASummary('无关图片')).toBe(true);
    expect(looksLikeStageASummary('参考 {"统计":[{"类别":"接地线","数量":1}]}')).toBe(true);
  });

  it('accepts rules written as prose', () => {
    expect(looksLikeStageASummary('若任意照片显示接地线未连接，则判定不通过。')).toBe(false);
    expect(looksLikeStageASummary('统计接地螺丝数量时忽略无法识别的标签。')).toBe(false);
    expect(looksLikeStageASummary('')).toBe(false);
  });
});
