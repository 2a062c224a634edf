import { StageBError } from '../../../shared/errors';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import type { GuidancePort } from '../ports/GuidancePort';

export type ReflectionPlanWrite =
  | { status: 'applied'; guidance: GuidanceState }
  | { status: 'step_conflict' | 'rejected_operation'; error: StageBError };

/**
 * The one way reflection writes guidance: the plan's preview (batch update stage) through
 * the guidance compare-and-swap on the step the plan was made for, recorded as the
 * reflection's write. A person's write in between is a step conflict and the plan is not
 * applied; a plan the repository's rules refuse is a rejected operation. The race and crash
 * suites drive this function too.
 */
export async function writeReflectionPlan(
  guidance: GuidancePort,
  preview: Pick<GuidanceState, 'experiences' | 'metadata'>,
  baseStep: number,
  by: { reflection_id: string; epoch: number | null; batch_index: number | null },
): Promise<ReflectionPlanWrite> {
  try {
    const written = await guidance.write(preview, baseStep, { by: { kind: 'reflection', author: null, ...by } });
    return { status: 'applied', guidance: written };
  } catch (error) {
    if (error instanceof StageBError && error.code === 'GUIDANCE_STEP_CONFLICT') return { status: 'step_conflict', error };
    if (error instanceof StageBError && error.code === 'GUIDANCE_REJECTED_OPERATION') return { status: 'rejected_operation', error };
    throw error;
  }
}
