export * from './navigationPolicy';
export * from './hostPolicy';
export * from './checkToken';
export * from './resolveInsideRoots';
export * from './contentSecurityPolicy';
export * from './windowPolicy';
