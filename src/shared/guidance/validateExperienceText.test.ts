import { describe, expect, it } from 'vitest';
import { validateExperienceText } from './validateExperienceText';

describe('validateExperienceText', () => {
  it('accepts rules, including ones that mention counts in words', () => {
    expect(validateExperienceText('G1', '接地线松动或锈蚀时判为不通过。')).toBeNull();
    expect(validateExperienceText('G2', 'If two or more cables are loose, fail the ticket.')).toBeNull();
  });

  it('rejects empty text and copied Stage-A summaries, naming the key', () => {
    expect(validateExperienceText('G3', ' \n\t ')).toMatch(/G3 is empty/);
    for (const summary of ['BBU设备/安装到位×2，接地线/已连接×1', '标签/完整', '见image_2', '{"统计":[{"类别":"接地线","属性":["已连接"],"数量":1}]}']) {
      expect(validateExperienceText('G4', summary)).toMatch(/G4 looks like a Stage-A photo summary/);
    }
  });
});
