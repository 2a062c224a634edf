import type { DecodeBatching } from '../../shared/schemas/telemetry';
import type { LlamaCppModelConfig } from '../../shared/schemas/runConfig';
import type { FlashAttentionChoice } from './resolveFlashAttention';
import type { BatchedDecodeCheck } from './llama/checkBatchedDecode';

export type BatchDecodeSetting = LlamaCppModelConfig['batch_decode'];
export type DecodeSite = { sequences: number; onGpu: boolean; flashAttention: FlashAttentionChoice };

/** llama.cpp's CPU flash attention splits a lone sequence's step into per-thread KV chunks from 512 cells on (docs/performance.md). */
const cpuFlashAttention = (site: DecodeSite) => !site.onGpu && site.flashAttention === true;

/**
 * Whether `resolveBatchDecode` needs a `checkBatchedDecode` measurement: only
 * when candidates might share decode steps and nothing known decides exactness
 * already. CPU flash attention is known to differ, but only over KV caches longer
 * than the probe's, so the probe could not see it.
 */
export function batchDecodeNeedsCheck(setting: BatchDecodeSetting, site: DecodeSite): boolean {
  return site.sequences > 1 && setting !== false && !cpuFlashAttention(site);
}

const describeCheck = (check: BatchedDecodeCheck) =>
  check.exact
    ? `a sequence's logits were bit-identical alone and sharing a decode step with ${check.stepSizes.map((n) => n - 1).join(', ')} others (${check.steps} steps each)`
    : `a sequence's logits changed when it shared a decode step (${check.differingSteps} of ${check.steps * check.stepSizes.length} probe steps, ` +
      `largest relative difference ${check.maxDifference.toExponential(1)}): llama.cpp computes a step of one token with other kernels than a step of several, ` +
      'which for some weight types (F32 among them) sum in another order';

/**
 * model.batch_decode as it applies to one loaded model:
 * - `false`: one candidate per decode step, the sequential path's kernels, exact.
 * - `true`: batched; `exact` reports the check (or the known flash-attention case).
 * - `auto`: batched where that is exact; where it is not, one at a time on the
 *   CPU (exactness costs little there) but batched on a GPU, where one candidate
 *   per step would give up most of the throughput; the run records it.
 */
export function resolveBatchDecode(setting: BatchDecodeSetting, site: DecodeSite, check: BatchedDecodeCheck | null): DecodeBatching {
  if (site.sequences <= 1) return { batched: false, exact: true, reason: 'one sequence: every decode step carries one candidate, as on the sequential path' };
  if (setting === false) return { batched: false, exact: true, reason: 'model.batch_decode is false: one candidate per decode step, as on the sequential path' };
  if (cpuFlashAttention(site)) {
    const why = "flash attention is on: llama.cpp's CPU kernel sums a lone sequence's decode step in per-thread KV chunks and a shared step in one pass";
    return setting === true
      ? { batched: true, exact: false, reason: `model.batch_decode is true; ${why}, so batched text can differ from the sequential path` }
      : { batched: false, exact: true, reason: `${why}, so candidates decode one at a time to stay exact` };
  }
  if (check === null) return { batched: true, exact: null, reason: 'batched; exactness against the sequential path was not checked' };
  const measured = describeCheck(check);
  if (check.exact) return { batched: true, exact: true, reason: measured };
  if (setting === true) return { batched: true, exact: false, reason: `model.batch_decode is true; ${measured}` };
  return site.onGpu
    ? { batched: true, exact: false, reason: `batched on the GPU for throughput although ${measured}; set model.batch_decode: false for exact reruns` }
    : { batched: false, exact: true, reason: `one candidate per decode step: ${measured}` };
}
