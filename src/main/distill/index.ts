export { distillSplit, formatSplitSummary, type DistillSplitSummary } from './runDistillSplit';
export { formatComparison } from './runCompare';
export { writeDistillCorpus } from './writeDistillCorpus';
export { loadRunSelections } from './loadRunSelections';
