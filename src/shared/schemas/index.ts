export * from './stageARecord';
export * from './guidance';
export * from './decode';
export * from './runConfig';
export * from './signals';
export * from './records';
export * from './telemetry';
export * from './timestamp';
