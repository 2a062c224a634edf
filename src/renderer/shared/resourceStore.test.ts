import { describe, expect, it } from 'vitest';
import { createResourceStore } from './resourceStore';

describe('createResourceStore', () => {
  it('keeps only the answer of the latest load', async () => {
    const resolvers: Array<(v: string) => void> = [];
    const store = createResourceStore((arg: string) => new Promise<string>((resolve) => resolvers.push((v) => resolve(`${arg}:${v}`))));
    const first = store.getState().load('a');
    const second = store.getState().load('b');
    resolvers[1]('2');
    await second;
    resolvers[0]('1');
    await first;
    expect(store.getState().state).toEqual({ status: 'ready', data: 'b:2' });
  });
  it('reports a failure as a SerializedError', async () => {
    const store = createResourceStore(async () => {
      throw new Error('boom');
    });
    await store.getState().load(undefined);
    expect(store.getState().state).toEqual({ status: 'error', error: { code: 'INTERNAL', message: 'boom', location: {} } });
  });
});
