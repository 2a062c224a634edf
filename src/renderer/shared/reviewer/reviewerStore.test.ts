import { describe, expect, it } from 'vitest';
import { createReviewerStore, memoryReviewerStorage, REVIEWER_DECLINED_KEY, REVIEWER_NAME_KEY } from './reviewerStore';

describe('reviewerStore', () => {
  it('asks once on the first write, answers every waiting write and keeps the name', async () => {
    const storage = memoryReviewerStorage();
    const store = createReviewerStore(storage);
    expect(store.getState()).toMatchObject({ name: null, prompting: false });
    const first = store.getState().requireName();
    const second = store.getState().requireName();
    expect(store.getState().prompting).toBe(true);
    expect(store.getState().submit('  Alice  ')).toBe(true);
    await expect(first).resolves.toBe('Alice');
    await expect(second).resolves.toBe('Alice');
    expect(store.getState().prompting).toBe(false);
    await expect(store.getState().requireName()).resolves.toBe('Alice');
    expect(store.getState().prompting).toBe(false);
    expect(storage.map.get(REVIEWER_NAME_KEY)).toBe('Alice');
    // A new window (reload, Electron restart) reads the kept name and does not ask.
    const reopened = createReviewerStore(storage);
    expect(reopened.getState().name).toBe('Alice');
    await expect(reopened.getState().requireName()).resolves.toBe('Alice');
    expect(reopened.getState().prompting).toBe(false);
  });

  it('refuses an empty name and stays open', () => {
    const store = createReviewerStore(memoryReviewerStorage());
    void store.getState().requireName();
    expect(store.getState().submit('   ')).toBe(false);
    expect(store.getState()).toMatchObject({ prompting: true, name: null });
    expect(store.getState().error).toMatch(/Enter a name/);
    store.getState().clearError();
    expect(store.getState().error).toBeNull();
    expect(store.getState().submit('x'.repeat(201))).toBe(false);
  });

  it('goes on without a name when declined, and does not ask again', async () => {
    const storage = memoryReviewerStorage();
    const store = createReviewerStore(storage);
    const pending = store.getState().requireName();
    store.getState().decline();
    await expect(pending).resolves.toBeNull();
    expect(storage.map.get(REVIEWER_DECLINED_KEY)).toBe('1');
    await expect(createReviewerStore(storage).getState().requireName()).resolves.toBeNull();
    expect(store.getState().prompting).toBe(false);
  });

  it('changes a known name, and keeps it when the change is cancelled', async () => {
    const storage = memoryReviewerStorage();
    storage.setItem(REVIEWER_NAME_KEY, 'Alice');
    const store = createReviewerStore(storage);
    store.getState().change();
    store.getState().decline();
    expect(store.getState().name).toBe('Alice');
    expect(storage.map.has(REVIEWER_DECLINED_KEY)).toBe(false);
    store.getState().change();
    store.getState().submit('Bob');
    await expect(store.getState().requireName()).resolves.toBe('Bob');
  });

  it('works when storage throws (disabled localStorage)', async () => {
    const broken = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); }, removeItem: () => { throw new Error('denied'); } };
    const store = createReviewerStore(broken);
    const pending = store.getState().requireName();
    store.getState().submit('Alice');
    await expect(pending).resolves.toBe('Alice');
  });
});
