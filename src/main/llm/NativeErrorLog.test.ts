import { LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { NativeErrorLog } from './NativeErrorLog';

type Logger = (level: LlamaLogLevel, message: string) => void;

/** The one member NativeErrorLog touches: Llama.logger (a getter/setter pair on the real class). */
function fakeLlama(): { llama: Llama; printed: [LlamaLogLevel, string][]; emit: Logger } {
  const printed: [LlamaLogLevel, string][] = [];
  const holder = { logger: ((level, message) => printed.push([level, message])) as Logger };
  return { llama: holder as unknown as Llama, printed, emit: (level, message) => holder.logger(level, message) };
}

describe('NativeErrorLog', () => {
  it('records warnings and errors since a mark and still forwards every line to the previous logger', async () => {
    const { llama, printed, emit } = fakeLlama();
    const log = NativeErrorLog.attach(llama);
    emit(LlamaLogLevel.error, 'before the mark');
    const mark = log.mark();
    emit(LlamaLogLevel.info, 'llama_context: n_ctx = 65536');
    emit(LlamaLogLevel.error, 'ggml_aligned_malloc: insufficient memory (attempted to allocate 4096.00 MB)');
    emit(LlamaLogLevel.warn, 'first line\nsecond line\n');
    expect(await log.since(mark)).toEqual(['ggml_aligned_malloc: insufficient memory (attempted to allocate 4096.00 MB)', 'first line', 'second line']);
    expect(printed.map(([, message]) => message)).toEqual([
      'before the mark',
      'llama_context: n_ctx = 65536',
      'ggml_aligned_malloc: insufficient memory (attempted to allocate 4096.00 MB)',
      'first line\nsecond line\n',
    ]);
  });

  it('wraps a runtime once, however often it is attached', async () => {
    const { llama, printed, emit } = fakeLlama();
    const first = NativeErrorLog.attach(llama);
    expect(NativeErrorLog.attach(llama)).toBe(first);
    const mark = first.mark();
    emit(LlamaLogLevel.fatal, 'GGML_ASSERT failed');
    expect(printed).toHaveLength(1);
    expect(await first.since(mark)).toEqual(['GGML_ASSERT failed']);
  });

  it('includes lines that arrive after the call settled but before the next macrotask', async () => {
    const { llama, emit } = fakeLlama();
    const log = NativeErrorLog.attach(llama);
    const mark = log.mark();
    const pending = log.since(mark);
    queueMicrotask(() => emit(LlamaLogLevel.error, 'late line'));
    expect(await pending).toEqual(['late line']);
  });

  it('keeps only the most recent lines', async () => {
    const { llama, emit } = fakeLlama();
    const log = NativeErrorLog.attach(llama);
    for (let index = 0; index < 500; index++) emit(LlamaLogLevel.error, `line ${index}`);
    const kept = await log.since(0);
    expect(kept.length).toBeLessThan(500);
    expect(kept.at(-1)).toBe('line 499');
    expect(kept[0]).toBe(`line ${500 - kept.length}`);
  });
});
