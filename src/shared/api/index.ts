/**
 * Workbench API — usage
 *
 *   import { api, type ApiClient, createHttpClient, selectApiClient } from '../shared/api';
 *
 *   const client: ApiClient = selectApiClient();          // Electron preload bridge if present, else HTTP (token from location.hash)
 *   const { runs } = await client.listRuns({});
 *   const page = await client.queryRows({ runId, mission, kind: 'trajectories', offset: 0, limit: 100,
 *                                         sort: { field: 'confidence', dir: 'desc' }, filters: { label_match: false, text: '接地' } });
 *   const saved = await client.guidanceSave({ runId, mission, baseStep: state.step, experiences });
 *   if (saved.status === 'conflict') showMerge(saved.base, saved.theirs, saved.mine);
 *   const off = client.onEvent((e) => { if (e.type === 'run_event') ... });
 *
 * Every method rejects with ApiCallError (`.error` is a SerializedError; show `.message`
 * / `.format()` verbatim). Inputs are validated again on the receiving side with the
 * same zod schemas (contract.ts); method names, inputs and outputs live only there.
 */
export * from './contract';
export * from './transport';
export * from './httpClient';
export * from './selectApiClient';
export * from './createBridgeClient';
export * from './methodNames';
