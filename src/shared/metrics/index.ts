export * from './rates';
export * from './pairedBootstrapUpliftProbability';
export * from './wilsonInterval';
export * from './differenceInterval';
export * from './pairedBootstrap';
