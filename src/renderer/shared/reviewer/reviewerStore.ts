import { createStore } from 'zustand/vanilla';
import { AuthorNameSchema } from '../../../shared/schemas/guidance';

/** What the store keeps the name in: localStorage in Electron and the browser, a Map in tests. */
export type ReviewerStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export const REVIEWER_NAME_KEY = 'stageb.reviewer.name';
/** Set when the person chose to go on without a name, so the workbench does not ask again. */
export const REVIEWER_DECLINED_KEY = 'stageb.reviewer.declined';

export type ReviewerState = {
  /** The name sent as `author` / `reviewer` with every write; null when none was given. */
  name: string | null;
  /** True while the dialog asking for the name is open. */
  prompting: boolean;
  /** Why the last submitted name was refused, for the dialog. */
  error: string | null;
  /**
   * The name to send with a write. Asks once (opens the dialog) when no name is known and
   * the person has not declined; every write waiting meanwhile gets the same answer.
   */
  requireName(): Promise<string | null>;
  /** Opens the dialog to set or change the name, without a write waiting. */
  change(): void;
  submit(name: string): boolean;
  /** The person is typing again: the last refusal no longer applies. */
  clearError(): void;
  /** Goes on without a name: writes carry author null, and the dialog is not shown again. */
  decline(): void;
};

function read(storage: ReviewerStorage, key: string): string | null {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

function write(storage: ReviewerStorage, key: string, value: string | null): void {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, value);
  } catch {
    // Storage can be disabled: the name then lives for this window only.
  }
}

/**
 * Who is doing the reviewing, framework-free. The name is validated with the same
 * AuthorNameSchema the API uses, so a name the dialog accepts is never refused by a save.
 */
export function createReviewerStore(storage: ReviewerStorage) {
  const stored = AuthorNameSchema.safeParse(read(storage, REVIEWER_NAME_KEY) ?? '');
  let waiting: Array<(name: string | null) => void> = [];
  const answer = (name: string | null) => {
    const resolvers = waiting;
    waiting = [];
    for (const resolve of resolvers) resolve(name);
  };
  return createStore<ReviewerState>()((set, get) => ({
    name: stored.success ? stored.data : null,
    prompting: false,
    error: null,
    requireName() {
      const { name } = get();
      if (name !== null) return Promise.resolve(name);
      if (read(storage, REVIEWER_DECLINED_KEY) === '1') return Promise.resolve(null);
      set({ prompting: true, error: null });
      return new Promise((resolve) => waiting.push(resolve));
    },
    change() {
      set({ prompting: true, error: null });
    },
    submit(raw) {
      const parsed = AuthorNameSchema.safeParse(raw);
      if (!parsed.success) {
        set({ error: raw.trim() === '' ? 'Enter a name, or continue without one.' : 'A name has at most 200 characters.' });
        return false;
      }
      write(storage, REVIEWER_NAME_KEY, parsed.data);
      write(storage, REVIEWER_DECLINED_KEY, null);
      set({ name: parsed.data, prompting: false, error: null });
      answer(parsed.data);
      return true;
    },
    clearError() {
      if (get().error !== null) set({ error: null });
    },
    decline() {
      const { name } = get();
      // Closing the dialog opened to change a known name keeps that name.
      if (name === null) write(storage, REVIEWER_DECLINED_KEY, '1');
      set({ prompting: false, error: null });
      answer(name);
    },
  }));
}

export type ReviewerStore = ReturnType<typeof createReviewerStore>;

/** A Map-backed ReviewerStorage for tests and for windows without localStorage. */
export function memoryReviewerStorage(): ReviewerStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, String(v)), removeItem: (k) => void map.delete(k) };
}
