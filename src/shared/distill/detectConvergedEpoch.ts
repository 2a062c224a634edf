/**
 * Which epoch of a Stage-B run becomes the distillation corpus.
 *
 * An epoch has converged when no guidance update was applied during it: every
 * group in it was judged under guidance that the loop itself no longer wanted
 * to change. We take the LAST such epoch because its guidance is the final one
 * the run settled on; an earlier converged epoch may have been followed by more
 * updates, which means its guidance was later judged improvable. A hand edit
 * that moved the guidance step during the epoch (step start != end) also rules
 * the epoch out, since the prompts inside it did not share one guidance state.
 */
export type EpochConvergenceInput = {
  epoch: number;
  applied_updates: number;
  guidance_step_start?: number;
  guidance_step_end?: number;
};

export type ConvergedEpochDecision = {
  status: 'written' | 'not_converged' | 'written_unconverged';
  epoch: number | null;
  message: string;
};

export function isConvergedEpoch(entry: EpochConvergenceInput): boolean {
  if (entry.applied_updates !== 0) return false;
  if (entry.guidance_step_start !== undefined && entry.guidance_step_end !== undefined) {
    return entry.guidance_step_start === entry.guidance_step_end;
  }
  return true;
}

export function detectConvergedEpoch(
  epochs: readonly EpochConvergenceInput[],
  options: { exportLastIfUnconverged: boolean },
): ConvergedEpochDecision {
  if (epochs.length === 0) {
    return { status: 'not_converged', epoch: null, message: 'no epoch finished, nothing to distill' };
  }
  const ordered = [...epochs].sort((x, y) => x.epoch - y.epoch);
  const converged = ordered.filter(isConvergedEpoch);
  if (converged.length > 0) {
    const chosen = converged[converged.length - 1];
    return {
      status: 'written',
      epoch: chosen.epoch,
      message: `epoch ${chosen.epoch} converged (no guidance update applied); using the last converged epoch of ${ordered.length}`,
    };
  }
  const last = ordered[ordered.length - 1];
  const updates = ordered.map((e) => `epoch ${e.epoch}: ${e.applied_updates}`).join(', ');
  if (options.exportLastIfUnconverged) {
    return {
      status: 'written_unconverged',
      epoch: last.epoch,
      message: `WARNING: no epoch converged (applied updates per epoch: ${updates}); exporting the last epoch ${last.epoch} because export_last_if_unconverged is set — its guidance was still changing`,
    };
  }
  return {
    status: 'not_converged',
    epoch: null,
    message: `no epoch converged (applied updates per epoch: ${updates}); no distill corpus written. Run more epochs or set stage_b_distillation.export_last_if_unconverged`,
  };
}
