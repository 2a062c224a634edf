import { LlamaLogLevel, type Llama } from 'node-llama-cpp';

type Line = { seq: number; text: string };

const CAPACITY = 200;
const KEPT_LEVELS = new Set<LlamaLogLevel>([LlamaLogLevel.fatal, LlamaLogLevel.error, LlamaLogLevel.warn]);
const logs = new WeakMap<Llama, NativeErrorLog>();

/**
 * The recent warning/error lines llama.cpp wrote through one Llama runtime. A
 * failed native call says only "Failed to create context"; the reason ("failed
 * to allocate buffer for kv cache") is in the log, so the caller marks the log
 * before the call and hands the lines since the mark to classifyNativeError.
 * Lines still go to the previous logger: nothing is hidden from the console.
 * Shared by every backend on the runtime, so concurrent calls may see each
 * other's lines; that only adds context to an error that already happened.
 */
export class NativeErrorLog {
  private readonly lines: Line[] = [];
  private next = 0;

  private constructor() {}

  /** The log of `llama`, installed on first use (wraps llama.logger once). */
  static attach(llama: Llama): NativeErrorLog {
    let log = logs.get(llama);
    if (!log) {
      const created = new NativeErrorLog();
      const previous = llama.logger;
      llama.logger = (level, message) => {
        created.record(level, message);
        previous(level, message);
      };
      logs.set(llama, created);
      log = created;
    }
    return log;
  }

  record(level: LlamaLogLevel, message: string): void {
    if (!KEPT_LEVELS.has(level)) return;
    for (const text of message.split('\n')) {
      if (text.trim() === '') continue;
      this.lines.push({ seq: this.next++, text });
    }
    if (this.lines.length > CAPACITY) this.lines.splice(0, this.lines.length - CAPACITY);
  }

  mark(): number {
    return this.next;
  }

  /**
   * Lines recorded since `mark`. Waits one macrotask first: the native side
   * delivers log lines through a thread-safe callback queue that may still hold
   * lines when the failed call's promise settles.
   */
  async since(mark: number): Promise<string[]> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return this.lines.filter((line) => line.seq >= mark).map((line) => line.text);
  }
}
