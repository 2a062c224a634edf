/**
 * Unsaved guidance text survives reloads: it is kept in localStorage under a key
 * that names the run, mission and the step the edit was based on. The base step
 * matters — a draft based on an older step must go through the merge, not be saved blind.
 */
export type DraftStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key'> & { readonly length: number };

export type GuidanceDraft = {
  run: string;
  mission: string;
  baseStep: number;
  /** What the annotator sees in the raw editor (JSON of the experiences). */
  text: string;
  savedAt: string;
};

const PREFIX = 'stageb.guidanceDraft';

export function draftKey(run: string, mission: string, baseStep: number): string {
  return `${PREFIX}:${encodeURIComponent(run)}:${encodeURIComponent(mission)}:${baseStep}`;
}

export function saveDraft(storage: DraftStorage, draft: GuidanceDraft): void {
  storage.setItem(draftKey(draft.run, draft.mission, draft.baseStep), JSON.stringify(draft));
}

export function clearDraft(storage: DraftStorage, run: string, mission: string, baseStep: number): void {
  storage.removeItem(draftKey(run, mission, baseStep));
}

function parseDraft(raw: string | null): GuidanceDraft | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as GuidanceDraft;
    if (typeof value.text !== 'string' || typeof value.baseStep !== 'number') return null;
    return value;
  } catch {
    return null;
  }
}

/** All drafts of one run/mission, newest base step first. */
export function listDrafts(storage: DraftStorage, run: string, mission: string): GuidanceDraft[] {
  const prefix = `${PREFIX}:${encodeURIComponent(run)}:${encodeURIComponent(mission)}:`;
  const drafts: GuidanceDraft[] = [];
  for (let i = 0; i < storage.length; i += 1) {
    const key = storage.key(i);
    if (!key || !key.startsWith(prefix)) continue;
    const draft = parseDraft(storage.getItem(key));
    if (draft) drafts.push(draft);
  }
  return drafts.sort((a, b) => b.baseStep - a.baseStep || b.savedAt.localeCompare(a.savedAt));
}

export function latestDraft(storage: DraftStorage, run: string, mission: string): GuidanceDraft | null {
  return listDrafts(storage, run, mission)[0] ?? null;
}

/** Drops every draft of a run/mission (after a successful save). */
export function clearDrafts(storage: DraftStorage, run: string, mission: string): void {
  for (const draft of listDrafts(storage, run, mission)) clearDraft(storage, run, mission, draft.baseStep);
}

/** A Map-backed Storage for tests and for environments without localStorage. */
export function memoryStorage(): DraftStorage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    key: (i) => [...map.keys()][i] ?? null,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, String(v)),
    removeItem: (k) => void map.delete(k),
  };
}
