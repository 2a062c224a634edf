import { describe, expect, it } from 'vitest';
import { clearDraft, clearDrafts, draftKey, latestDraft, listDrafts, memoryStorage, saveDraft } from './draftPersistence';

const draft = (baseStep: number, text: string, mission = 'BBU接地线检查') => ({ run: 'demo', mission, baseStep, text, savedAt: `2026-01-0${baseStep}T00:00:00Z` });

describe('guidance draft persistence', () => {
  it('round-trips a draft keyed by run, mission and base step', () => {
    const storage = memoryStorage();
    saveDraft(storage, draft(3, '{"G0":"x"}'));
    expect(storage.getItem(draftKey('demo', 'BBU接地线检查', 3))).toContain('G0');
    expect(latestDraft(storage, 'demo', 'BBU接地线检查')?.text).toBe('{"G0":"x"}');
  });
  it('returns the newest base step first and keeps missions apart', () => {
    const storage = memoryStorage();
    saveDraft(storage, draft(2, 'old'));
    saveDraft(storage, draft(5, 'new'));
    saveDraft(storage, draft(9, 'other', '挡风板安装检查'));
    expect(listDrafts(storage, 'demo', 'BBU接地线检查').map((d) => d.text)).toEqual(['new', 'old']);
    clearDraft(storage, 'demo', 'BBU接地线检查', 5);
    expect(latestDraft(storage, 'demo', 'BBU接地线检查')?.text).toBe('old');
    clearDrafts(storage, 'demo', 'BBU接地线检查');
    expect(latestDraft(storage, 'demo', 'BBU接地线检查')).toBeNull();
    expect(latestDraft(storage, 'demo', '挡风板安装检查')?.text).toBe('other');
  });
  it('ignores corrupt entries', () => {
    const storage = memoryStorage();
    storage.setItem(draftKey('demo', 'm', 1), '{not json');
    expect(listDrafts(storage, 'demo', 'm')).toEqual([]);
  });
});
