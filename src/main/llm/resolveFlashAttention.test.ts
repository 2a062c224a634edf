import { describe, expect, it } from 'vitest';
import { resolveFlashAttention } from './resolveFlashAttention';

describe('resolveFlashAttention', () => {
  it.each([
    ['auto', false, false],
    ['auto', true, 'auto'],
    ['on', false, true],
    ['on', true, true],
    ['off', false, false],
    ['off', true, false],
  ] as const)('%s with onGpu %s gives %s', (setting, onGpu, expected) => {
    expect(resolveFlashAttention(setting, { onGpu })).toBe(expected);
  });
});
