import { getApiClient } from './apiClient';
import { createRunsStore } from '../features/runs/store';
import { createRowsStore } from '../features/trajectories/store';
import { createGroupStore } from '../features/group/store';
import { createReflectionStore } from '../features/reflection/store';
import { createGuidanceStore } from '../features/guidance/store';
import { memoryStorage, type DraftStorage } from '../features/guidance/draftPersistence';
import { createSnapshotsStore } from '../features/snapshots/store';
import { createQaStore } from '../features/qa/store';
import { createLauncherStore } from '../features/launcher/store';
import { createChartsStore } from '../features/charts/store';
import { createReviewQueueStore } from '../features/review/store';
import { createHoldoutStore } from '../features/guidance/holdoutStore';
import { createReviewerStore, memoryReviewerStorage, type ReviewerStorage } from '../shared/reviewer/reviewerStore';

function draftStorage(): DraftStorage {
  try {
    const storage = globalThis.localStorage;
    if (storage) return storage;
  } catch {
    // Storage can be disabled; drafts then live for the session only.
  }
  return memoryStorage();
}

function reviewerStorage(): ReviewerStorage {
  try {
    const storage = globalThis.localStorage;
    if (storage) return storage;
  } catch {
    // Storage can be disabled; the name then lives for the session only.
  }
  return memoryReviewerStorage();
}

/** Every feature's core store, created once per window. */
export function createAppStores() {
  const reviewer = createReviewerStore(reviewerStorage());
  // Every write a person makes names them: asked once, on the first write (ReviewerDialog).
  const author = () => reviewer.getState().requireName();
  return {
    reviewer,
    runs: createRunsStore(getApiClient),
    rows: createRowsStore(getApiClient),
    group: createGroupStore(getApiClient),
    reflection: createReflectionStore(getApiClient),
    guidance: createGuidanceStore(getApiClient, draftStorage(), { author }),
    snapshots: createSnapshotsStore(getApiClient, author),
    qa: createQaStore(getApiClient, author),
    review: createReviewQueueStore(getApiClient, author),
    holdout: createHoldoutStore(getApiClient),
    launcher: createLauncherStore(getApiClient),
    charts: createChartsStore(getApiClient),
  };
}

export type AppStores = ReturnType<typeof createAppStores>;
