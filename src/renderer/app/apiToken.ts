import { createStore } from 'zustand/vanilla';
import { tokenFromHash } from '../../shared/api/httpClient';

/**
 * The web transport's per-launch token. It arrives in the URL `npm run workbench:web`
 * prints (`/#token=…`); the page keeps it in this origin's localStorage and takes it out of
 * the address bar, so a link copied from there (a run, a group, a decision) carries no
 * token, and opens in this browser while that server runs. A server restarted with a new
 * token refuses the kept one: the app then says where a new one comes from.
 */
export const TOKEN_STORAGE_KEY = 'stageb.apiToken';

type TokenStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** `#token=abc&x=1` → `#x=1`; `#token=abc` → ''. */
export function hashWithoutToken(hash: string): string {
  const body = hash.replace(/^#/, '');
  const rest = body.split('&').filter((part) => part !== '' && !/^token=/.test(part));
  return rest.length ? `#${rest.join('&')}` : '';
}

/**
 * The token for this page: the one in the hash (kept for the next page), else the kept
 * one. `hash` is what the address bar's hash should become: the token is taken out only
 * once it is kept, so a page without storage still works on reload.
 */
export function resolveApiToken(hash: string, storage: TokenStorage | null): { token: string | null; hash: string } {
  const fromHash = tokenFromHash(hash);
  if (fromHash) {
    try {
      storage?.setItem(TOKEN_STORAGE_KEY, fromHash);
      if (storage) return { token: fromHash, hash: hashWithoutToken(hash) };
    } catch {
      // Storage refused (disabled, full): the token stays in the address bar.
    }
    return { token: fromHash, hash };
  }
  try {
    return { token: storage?.getItem(TOKEN_STORAGE_KEY) || null, hash };
  } catch {
    return { token: null, hash };
  }
}

export type TokenState = {
  token: string | null;
  /** The server answered API_FORBIDDEN to the token this page holds (a restarted server has a new one). */
  rejected: boolean;
};

export const tokenStore = createStore<TokenState>()(() => ({ token: null, rejected: false }));

function browserStorage(): TokenStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

let taken = false;

/** Reads the token once per page (hash first, then storage) and cleans the address bar. */
export function takeApiToken(): string | null {
  if (taken) return tokenStore.getState().token;
  taken = true;
  const location = globalThis.location;
  if (!location) return null;
  const { token, hash } = resolveApiToken(location.hash, browserStorage());
  if (hash !== location.hash) globalThis.history?.replaceState(globalThis.history.state, '', `${location.pathname}${location.search}${hash}`);
  tokenStore.setState({ token });
  return token;
}
