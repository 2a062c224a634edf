import { describe, expect, it } from 'vitest';
import { loggablePath } from './createWebServer';

describe('loggablePath', () => {
  it.each([
    ['/api/listRuns', '/api/listRuns'],
    ['/api/events', '/api/events'],
    ['/api/3f9a1c0b7e6d5a4f3f9a1c0b7e6d5a4f', '/api/<unknown>'],
    ['/api/../../etc/passwd', '/api/<unknown>'],
    ['/assets/index-BXc9kT2a.js', '/assets/index-BXc9kT2a.js'],
    ['/', '/'],
    ['/3f9a1c0b7e6d5a4f3f9a1c0b', '<path elided>'],
    ['/a b', '<path elided>'],
  ])('%s → %s', (input, expected) => {
    expect(loggablePath(input)).toBe(expected);
  });
});
