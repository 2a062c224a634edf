export { runDistillSplit, distillSplit, formatSplitSummary, DISTILL_SPLIT_USAGE, type DistillSplitSummary } from './runDistillSplit';
export { runCompare, formatComparison, COMPARE_USAGE } from './runCompare';
export { writeDistillCorpus } from './writeDistillCorpus';
export { loadRunSelections } from './loadRunSelections';
