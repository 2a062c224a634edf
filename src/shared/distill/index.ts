export * from './detectConvergedEpoch';
export * from './buildDistillRecords';
export * from './assertNoReflectionText';
export * from './assistantVerdict';
export * from './splitCorpus';
export * from './markHighValue';
export * from './splitPaths';
export * from './fusionConfig';
