import type { LlamaCppModelConfig } from '../../shared/schemas/runConfig';

/** What node-llama-cpp's `flashAttention` context option gets: on, off, or llama.cpp's own choice. */
export type FlashAttentionChoice = boolean | 'auto';

/**
 * `model.flash_attention` for where the model runs. `auto` turns flash attention
 * off on the CPU: llama.cpp's CPU kernel splits a one-token decode of one
 * sequence into per-thread chunks of the KV cache (when the cache holds 512 or
 * more cells) but runs a step that decodes several sequences in one pass, so the
 * same candidate's logits differed in the last bits between the sequential path
 * and a batched step, and between runs whose steps grouped candidates
 * differently. Without flash attention attention sums a sequence's cells in the
 * same order however many sequences share a step; whether the matmuls do is the
 * weight type's business, measured at load (checkBatchedDecode). On a GPU
 * llama.cpp chooses: its kernels differ by batch size either way, and flash
 * attention saves GPU memory and time there.
 */
export function resolveFlashAttention(setting: LlamaCppModelConfig['flash_attention'], where: { onGpu: boolean }): FlashAttentionChoice {
  if (setting === 'on') return true;
  if (setting === 'off') return false;
  return where.onGpu ? 'auto' : false;
}
