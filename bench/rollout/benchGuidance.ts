/**
 * A realistic experiences block for BBU接地线检查 (grounding-cable check), about
 * 1k tokens with the byte-level vocab of this repository's random-weight models
 * (one token per UTF-8 byte). Written for the bench only: it shapes prompt
 * length and layout like a converged guidance file, not the verdicts.
 */
export const BENCH_MISSION = 'BBU接地线检查';

export const BENCH_EXPERIENCES: Record<string, string> = {
  G0: '检查项: BBU接地线是否存在、标签是否清晰、两端螺丝是否紧固、走线是否整齐。四项全部满足才判通过。',
  G1: 'BBU侧与地排侧都要有证据: 只看到BBU安装螺丝而没有地排处接地螺丝时, 接地线终端无法确认, 判不通过。',
  G2: '标签写明"BBU-接地线"(如5G-BBU-接地线、NR900-BBU-接地线)即视为接地线存在; 只有电源柜或DCDU接地标签不能代替BBU接地。',
  G3: '摘要出现"未拧紧""松动""缺失""不符合要求"等字样的螺丝或接地点, 直接判不通过, 并在理由中写出位置。',
  G4: '"只显示部分,无需安装"说明设备被遮挡, 不是缺陷; 以其他图片中的接地证据为准。',
  G5: '走线要求捆扎整齐; 出现"杂乱""未绑扎"时判不通过, 即使接地线本身完整。',
  G6: '多张图片互相补充: 一张图显示标签、另一张图显示地排螺丝, 合起来满足检查项即可判通过。',
  G7: '摘要需复核或无法识别时, 不要猜测; 若其余证据完整则判通过, 否则判不通过并说明缺少哪项证据。',
};
