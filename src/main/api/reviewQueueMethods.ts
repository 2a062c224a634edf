import { StageBError, toStageBError } from '../../shared/errors';
import type { ApiOutput, ApiParsedInput, ReviewQueueItem } from '../../shared/api/contract';
import type { GuidanceState } from '../../shared/schemas/guidance';
import type { ReviewItem } from '../../shared/schemas/reviewQueue';
import { foldReviewQueue } from '../../shared/guidance/foldReviewQueue';
import { applyReviewItem } from '../../shared/guidance/applyReviewItem';
import { appendReviewQueue, readReviewQueue } from '../io/reviewQueueFile';
import { RUN_FILES } from '../../shared/runFiles';
import type { ApiContext } from './ApiContext';
import { guidanceFor } from './guidanceMethods';

function withNow(item: ReviewItem, current: GuidanceState | null): ReviewQueueItem {
  const keyById = new Map(Object.entries(current?.metadata ?? {}).filter(([key]) => current && key in current.experiences).map(([key, meta]) => [meta.rule_id, key]));
  const ids = [...new Set(Object.values(item.rule_ids))];
  return {
    ...item,
    now: ids.map((rule_id) => {
      const key = keyById.get(rule_id) ?? null;
      return { rule_id, key, text: key && current ? current.experiences[key] : null };
    }),
  };
}

async function loadItems(ctx: ApiContext, runId: string, mission: string) {
  const { missionDir, guidance } = await guidanceFor(ctx, runId, mission);
  const items = foldReviewQueue(await readReviewQueue(missionDir));
  let current: GuidanceState | null = null;
  try {
    current = await guidance.read();
  } catch {
    current = null;
  }
  return { missionDir, guidance, items, current };
}

function pendingItem(items: ReviewItem[], itemId: string): ReviewItem {
  const item = items.find((i) => i.item_id === itemId);
  if (!item) throw new StageBError('API_NOT_FOUND', `no review item ${itemId}`, { file: RUN_FILES.reviewQueue, field: 'itemId' });
  if (item.status !== 'pending') {
    throw new StageBError('API_INVALID_REQUEST', `review item ${itemId} was already ${item.status}${item.decision?.by ? ` by ${item.decision.by}` : ''}`, { file: RUN_FILES.reviewQueue, field: 'itemId' });
  }
  return item;
}

export async function reviewQueue(ctx: ApiContext, input: ApiParsedInput<'reviewQueue'>): Promise<ApiOutput<'reviewQueue'>> {
  const { items, current } = await loadItems(ctx, input.runId, input.mission);
  const selected = input.status === 'all' ? items : items.filter((item) => item.status === input.status);
  return { items: selected.reverse().map((item) => withNow(item, current)), pending: items.filter((item) => item.status === 'pending').length };
}

/**
 * Accept: the operation, found again by rule_id in the current guidance, written through
 * the same compare-and-swap as every save (a lost race is GUIDANCE_STEP_CONFLICT: reload
 * and accept again), recorded as an approval by the author; then the decision is logged.
 */
export async function reviewAccept(ctx: ApiContext, input: ApiParsedInput<'reviewAccept'>): Promise<ApiOutput<'reviewAccept'>> {
  const { missionDir, guidance, items } = await loadItems(ctx, input.runId, input.mission);
  const item = pendingItem(items, input.itemId);
  const current = await guidance.read();
  const now = ctx.now().toISOString();
  let next;
  try {
    next = applyReviewItem(current, item, input.author, now);
  } catch (error) {
    throw toStageBError(error);
  }
  const { hash, ...state } = await guidance.write({ experiences: next.experiences, metadata: next.metadata }, current.step, {
    expectedHash: current.hash,
    by: { kind: 'approval', author: input.author, reflection_id: item.reflection_id, epoch: item.epoch, batch_index: item.batch_index, review_item_id: item.item_id },
  });
  const decision = { type: 'decision' as const, item_id: item.item_id, decision: 'accepted' as const, by: input.author, guidance_step_after: state.step, note: input.note, created_at: now };
  await appendReviewQueue(missionDir, [decision]);
  const { type: _t, item_id: _i, ...recorded } = decision;
  return { item: withNow({ ...item, status: 'accepted', decision: recorded }, state), state, hash };
}

export async function reviewDismiss(ctx: ApiContext, input: ApiParsedInput<'reviewDismiss'>): Promise<ApiOutput<'reviewDismiss'>> {
  const { missionDir, items, current } = await loadItems(ctx, input.runId, input.mission);
  const item = pendingItem(items, input.itemId);
  const decision = { type: 'decision' as const, item_id: item.item_id, decision: 'dismissed' as const, by: input.author, guidance_step_after: null, note: input.note, created_at: ctx.now().toISOString() };
  await appendReviewQueue(missionDir, [decision]);
  const { type: _t, item_id: _i, ...recorded } = decision;
  return { item: withNow({ ...item, status: 'dismissed', decision: recorded }, current) };
}
