import { describe, expect, it } from 'vitest';
import { resolvePhaseThreads } from './resolvePhaseThreads';

describe('resolvePhaseThreads', () => {
  const cases: Array<[string, { threads: number; decode_threads: number; overlap_prompts: boolean }, number, { prompt: number; decode: number }]> = [
    ['auto: all cores for both phases', { threads: 0, decode_threads: 0, overlap_prompts: false }, 8, { prompt: 8, decode: 8 }],
    ['decode threads default to the prompt threads', { threads: 3, decode_threads: 0, overlap_prompts: false }, 8, { prompt: 3, decode: 3 }],
    ['each phase is capped at the cores', { threads: 32, decode_threads: 16, overlap_prompts: false }, 8, { prompt: 8, decode: 8 }],
    ['overlap auto splits the cores, decoding gets the larger half', { threads: 0, decode_threads: 0, overlap_prompts: true }, 2, { prompt: 1, decode: 1 }],
    ['overlap auto on an odd count', { threads: 0, decode_threads: 0, overlap_prompts: true }, 5, { prompt: 2, decode: 3 }],
    ['overlap: decoding takes what prompts leave', { threads: 6, decode_threads: 0, overlap_prompts: true }, 8, { prompt: 6, decode: 2 }],
    ['overlap: prompts take what decoding leaves', { threads: 0, decode_threads: 3, overlap_prompts: true }, 8, { prompt: 5, decode: 3 }],
    ['overlap: both set are used as given (capped per phase)', { threads: 4, decode_threads: 12, overlap_prompts: true }, 8, { prompt: 4, decode: 8 }],
    ['overlap on one core still gives each phase a thread', { threads: 0, decode_threads: 0, overlap_prompts: true }, 1, { prompt: 1, decode: 1 }],
    ['overlap: prompts asking for every core leave decoding one', { threads: 8, decode_threads: 0, overlap_prompts: true }, 8, { prompt: 8, decode: 1 }],
  ];
  it.each(cases)('%s', (_name, config, cores, expected) => {
    expect(resolvePhaseThreads(config, cores)).toEqual(expected);
  });
});
