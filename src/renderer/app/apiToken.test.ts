import { describe, expect, it } from 'vitest';
import { hashWithoutToken, resolveApiToken, TOKEN_STORAGE_KEY } from './apiToken';

function storage(initial: Record<string, string> = {}, broken = false) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (key: string) => {
      if (broken) throw new Error('denied');
      return data.get(key) ?? null;
    },
    setItem: (key: string, value: string) => {
      if (broken) throw new Error('denied');
      data.set(key, value);
    },
  };
}

describe('the web token', () => {
  it('keeps the token of the printed URL and takes it out of the address bar', () => {
    const kept = storage();
    expect(resolveApiToken('#token=abc', kept)).toEqual({ token: 'abc', hash: '' });
    expect(kept.data.get(TOKEN_STORAGE_KEY)).toBe('abc');
    expect(resolveApiToken('#token=new&x=1', kept)).toEqual({ token: 'new', hash: '#x=1' });
    expect(kept.data.get(TOKEN_STORAGE_KEY), 'a new launch replaces the kept token').toBe('new');
  });
  it('opens a link without a token with the kept one, or with none', () => {
    expect(resolveApiToken('', storage({ [TOKEN_STORAGE_KEY]: 'abc' }))).toEqual({ token: 'abc', hash: '' });
    expect(resolveApiToken('', storage())).toEqual({ token: null, hash: '' });
    expect(resolveApiToken('', null)).toEqual({ token: null, hash: '' });
  });
  it('leaves the token in the address bar when it cannot be kept, so a reload still works', () => {
    expect(resolveApiToken('#token=abc', storage({}, true))).toEqual({ token: 'abc', hash: '#token=abc' });
    expect(resolveApiToken('#token=abc', null)).toEqual({ token: 'abc', hash: '#token=abc' });
    expect(resolveApiToken('', storage({}, true))).toEqual({ token: null, hash: '' });
  });
  it('removes only the token from the hash', () => {
    expect(hashWithoutToken('#token=a')).toBe('');
    expect(hashWithoutToken('#a=1&token=b&c=2')).toBe('#a=1&c=2');
    expect(hashWithoutToken('')).toBe('');
  });
});
