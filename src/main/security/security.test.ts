import { mkdir, mkdtemp, rm, symlink, writeFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  SECURE_WEB_PREFERENCES,
  assertPathSegment,
  bearerToken,
  buildCsp,
  checkToken,
  createToken,
  decidePermission,
  decideWindowOpen,
  isAllowedHost,
  isAllowedNavigation,
  isTrustedSenderUrl,
  resolveInsideRoots,
} from './index';

describe('isAllowedNavigation', () => {
  it.each([
    ['app://workbench/index.html', true],
    ['app://workbench/', true],
    ['app://workbench/#/runs?token=x', true],
    ['app://workbench/assets/index-abc.js', true],
    ['APP://WORKBENCH/index.html', true],
    ['app://workbench/../../etc/passwd', true], // normalised by URL to app://workbench/etc/passwd: same origin, the protocol handler confines files
    ['app://other/index.html', false],
    ['app://workbench.evil.com/', false],
    ['app://user:pw@workbench/', false],
    ['app:///etc/passwd', false],
    ['app:workbench', false],
    ['javascript:alert(1)', false],
    ['JaVaScRiPt:alert(1)', false],
    [' javascript:alert(1)', false],
    ['data:text/html,<script>alert(1)</script>', false],
    ['file:///etc/passwd', false],
    ['file://workbench/index.html', false],
    ['http://workbench/', false],
    ['https://example.com/', false],
    ['blob:app://workbench/1234', false],
    ['about:blank', false],
    ['chrome://settings', false],
    ['devtools://devtools/bundled/inspector.html', false],
    ['//evil.com', false],
    ['', false],
    ['not a url', false],
    ['app://workbench\0.evil/', false],
    ['app://workbench%2F@evil.com/', false],
  ])('%s → %s', (url, allowed) => {
    expect(isAllowedNavigation(url, APP_ORIGIN)).toBe(allowed);
  });

  it.each([
    ['http://127.0.0.1:5173/', 'http://127.0.0.1:5173', true],
    ['http://127.0.0.1:5174/', 'http://127.0.0.1:5173', false],
    ['http://localhost:5173/', 'http://127.0.0.1:5173', false],
    ['https://127.0.0.1:5173/', 'http://127.0.0.1:5173', false],
  ])('dev server origin %s vs %s → %s', (url, origin, allowed) => {
    expect(isAllowedNavigation(url, origin)).toBe(allowed);
  });

  it('judges IPC senders the same way and refuses a missing frame', () => {
    expect(isTrustedSenderUrl('app://workbench/index.html', APP_ORIGIN)).toBe(true);
    expect(isTrustedSenderUrl('https://evil.example/', APP_ORIGIN)).toBe(false);
    expect(isTrustedSenderUrl(null, APP_ORIGIN)).toBe(false);
    expect(isTrustedSenderUrl('', APP_ORIGIN)).toBe(false);
  });
});

describe('isAllowedHost', () => {
  it.each([
    ['127.0.0.1:4100', true],
    ['localhost:4100', true],
    ['LOCALHOST:4100', true],
    ['[::1]:4100', true],
    ['127.0.0.1', false],
    ['localhost', false],
    ['127.0.0.1:4101', false],
    ['evil.com:4100', false],
    ['127.0.0.1.evil.com:4100', false],
    ['localhost.evil.com:4100', false],
    ['127.0.0.1:4100@evil.com', false],
    ['0.0.0.0:4100', false],
    ['', false],
    [undefined, false],
  ])('Host %s → %s', (host, allowed) => {
    expect(isAllowedHost(host as string | undefined, 4100)).toBe(allowed);
  });

  it('accepts an explicitly configured bind host', () => {
    expect(isAllowedHost('gpu-box.lan:4100', 4100, ['gpu-box.lan'])).toBe(true);
    expect(isAllowedHost('gpu-box.lan:4100', 4100)).toBe(false);
  });
});

describe('tokens', () => {
  it('creates unguessable distinct tokens', () => {
    const a = createToken();
    const b = createToken();
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(40);
  });

  it.each([
    ['right', 'right', true],
    ['wrong', 'right', false],
    ['righ', 'right', false],
    ['', 'right', false],
    [null, 'right', false],
    [undefined, 'right', false],
    ['x', '', false],
  ])('checkToken(%s, %s) → %s', (provided, expected, ok) => {
    expect(checkToken(provided as string | null | undefined, expected)).toBe(ok);
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer  abc ', 'abc'],
    ['Basic abc', null],
    ['Bearer', null],
    ['Bearer a b', null],
    [undefined, null],
  ])('bearerToken(%s) → %s', (header, token) => {
    expect(bearerToken(header as string | undefined)).toBe(token);
  });
});

describe('resolveInsideRoots', () => {
  let root: string;
  let outside: string;

  beforeAll(async () => {
    const base = await realpath(await mkdtemp(path.join(tmpdir(), 'roots-')));
    root = path.join(base, 'runs');
    outside = path.join(base, 'secret');
    await mkdir(path.join(root, 'run1', 'm1'), { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, 'key.txt'), 'secret');
    await writeFile(path.join(root, 'run1', 'm1', 'ok.json'), '{}');
    await symlink(outside, path.join(root, 'escape'));
    await symlink(path.join(root, 'run1'), path.join(root, 'inner-link'));
  });
  afterAll(async () => rm(path.dirname(root), { recursive: true, force: true }));

  it.each([
    ['run1/m1/ok.json', 'run1/m1/ok.json'],
    ['run1/m1', 'run1/m1'],
    ['run1/m1/new-file.json', 'run1/m1/new-file.json'],
    ['inner-link/m1/ok.json', 'run1/m1/ok.json'],
    ['.', ''],
  ])('accepts %s', async (requested, expected) => {
    expect(await resolveInsideRoots([root], requested)).toBe(path.join(root, expected));
  });

  it.each([
    ['../secret/key.txt'],
    ['run1/../../secret/key.txt'],
    ['..'],
    ['run1/m1/..'],
    ['%2e%2e/secret/key.txt'],
    ['..%2fsecret%2fkey.txt'],
    ['run1%2f..%2f..%2fsecret'],
    ['..\\secret\\key.txt'],
    ['escape/key.txt'],
    ['escape'],
    ['run1/m1/ok.json\0.png'],
    ['%00'],
    ['%zz'],
    [''],
  ])('refuses %j', async (requested) => {
    await expect(resolveInsideRoots([root], requested)).rejects.toMatchObject({ code: 'API_FORBIDDEN' });
  });

  it('refuses absolute paths outside every root and accepts ones inside', async () => {
    await expect(resolveInsideRoots([root], path.join(outside, 'key.txt'))).rejects.toMatchObject({ code: 'API_FORBIDDEN' });
    await expect(resolveInsideRoots([root], '/etc/passwd')).rejects.toMatchObject({ code: 'API_FORBIDDEN' });
    expect(await resolveInsideRoots([root], path.join(root, 'run1'))).toBe(path.join(root, 'run1'));
    expect(await resolveInsideRoots([root, outside], path.join(outside, 'key.txt'))).toBe(path.join(outside, 'key.txt'));
  });

  it.each([['..'], ['.'], ['a/b'], ['a\\b'], ['a\0'], [''], ['x'.repeat(256)]])('assertPathSegment refuses %j', (value) => {
    expect(() => assertPathSegment(value, 'runId')).toThrow(/not a plain name/);
  });

  it('assertPathSegment accepts Chinese mission names and dotted run names', () => {
    expect(assertPathSegment('BBU接地线检查', 'mission')).toBe('BBU接地线检查');
    expect(assertPathSegment('run.v2_final-1', 'runId')).toBe('run.v2_final-1');
  });
});

describe('window and content policy', () => {
  it('webPreferences isolate and sandbox the renderer', () => {
    expect(SECURE_WEB_PREFERENCES).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false, allowRunningInsecureContent: false });
    expect(Object.isFrozen(SECURE_WEB_PREFERENCES)).toBe(true);
  });

  it.each([['media'], ['geolocation'], ['notifications'], ['clipboard-read'], ['openExternal'], ['fullscreen']])('permission %s is denied', (permission) => {
    expect(decidePermission(permission, APP_ORIGIN)).toBe(false);
  });

  it('window.open is denied whatever the URL', () => {
    expect(decideWindowOpen('app://workbench/other')).toEqual({ action: 'deny' });
    expect(decideWindowOpen('https://example.com')).toEqual({ action: 'deny' });
  });

  it('the CSP allows scripts only from self and forbids plugins, framing and base tags', () => {
    const csp = buildCsp();
    const directives = new Map(csp.split('; ').map((part) => [part.split(' ')[0], part.split(' ').slice(1)]));
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-eval/);
    expect(directives.get('script-src')).not.toContain("'unsafe-inline'");
  });
});
