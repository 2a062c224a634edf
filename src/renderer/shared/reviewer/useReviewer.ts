import { useStore } from 'zustand';
import type { ReviewerState, ReviewerStore } from './reviewerStore';

/** The reviewer's name and dialog state for a component; the logic stays in reviewerStore. */
export function useReviewer<T>(store: ReviewerStore, select: (state: ReviewerState) => T): T {
  return useStore(store, select);
}
