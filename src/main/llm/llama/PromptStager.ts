import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LlamaContext, LlamaContextSequence, Token } from 'node-llama-cpp';
import { SharedPrefixScheduler } from './SharedPrefixScheduler';

/**
 * Evaluates prompts in a context of their own, so that on a CPU prompt
 * evaluation runs on some cores while candidates decode on the others (one
 * decode step of a small batch cannot keep every core busy, and one context
 * runs one llama_decode at a time).
 *
 * A staged prompt reaches the decoding context as a sequence state file
 * (node-llama-cpp's public saveStateToFile / loadStateFromFile): the bytes of
 * the KV cache move unchanged, so the decoding sequence holds exactly what
 * evaluating the prompt there would have produced. llama.cpp only loads a
 * state into a context with the same number of KV streams, so the staging
 * context has as many sequences as the decoding one; its sequences double as
 * a prefix cache (the shared block is evaluated once and copied, as in the
 * decoding context without staging).
 *
 * State files go to /dev/shm when it exists (memory, not disk) and are deleted
 * as soon as they are loaded; the directory goes with close().
 */
export class PromptStager {
  private counter = 0;

  private constructor(
    private readonly context: LlamaContext,
    private readonly pool: SharedPrefixScheduler,
    private readonly directory: string,
  ) {}

  static async create(context: LlamaContext, options: { copyState: boolean; stateDirectory?: string }): Promise<PromptStager> {
    const base = options.stateDirectory ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
    const directory = await mkdtemp(join(base, 'stageb-prompt-state-'));
    return new PromptStager(context, new SharedPrefixScheduler(context, { mode: 'shared', copyState: options.copyState }), directory);
  }

  get stateDirectory(): string {
    return this.directory;
  }

  /**
   * Makes `target` (a sequence of the decoding context) hold `tokens` minus the
   * last token, evaluated here chunk by chunk on the prompt's part
   * `boundaries`. Returns the prompt tokens evaluated (held prefixes cost none).
   * Prompts are evaluated one at a time, in call order.
   */
  async stage(target: LlamaContextSequence, tokens: readonly Token[], boundaries: readonly number[], signal: AbortSignal): Promise<number> {
    const [slot] = await this.pool.acquire(1, tokens, signal);
    const file = join(this.directory, `${++this.counter}.state`);
    let evaluated: number;
    try {
      evaluated = await this.pool.prepareExclusive([slot], tokens, boundaries);
      await slot.sequence.saveStateToFile(file);
    } catch (error) {
      await slot.sequence.clearHistory().catch(() => undefined);
      await rm(file, { force: true });
      throw error;
    } finally {
      this.pool.release([slot]);
    }
    try {
      await target.loadStateFromFile(file, { acceptRisk: true });
    } finally {
      await rm(file, { force: true });
    }
    return evaluated;
  }

  /** Rejects queued prompts, frees the staging context and deletes the state directory. */
  async close(error: unknown): Promise<void> {
    this.pool.rejectWaiters(error);
    for (const slot of this.pool.idleSlots) slot.sequence.dispose();
    await this.context.dispose();
    await rm(this.directory, { recursive: true, force: true });
  }
}
