import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultWorkbenchApi } from '../api/createDefaultWorkbenchApi';
import { createWebServer } from '../web/createWebServer';
import { buildCsp } from './contentSecurityPolicy';

const repo = path.resolve(import.meta.dirname, '..', '..', '..');
const OWNER = path.join('src', 'main', 'security', 'contentSecurityPolicy.ts');
// A policy is a string that sets a fetch directive; any file that spells one out is a second source.
const DIRECTIVE = /\b(?:default|script|style|connect|worker)-src\s+'/;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map(async (entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx|html|js|mjs)$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [full] : [];
  }));
  return nested.flat();
}

describe('one Content-Security-Policy source', () => {
  it('only contentSecurityPolicy.ts spells out a policy; the renderer has no <meta> copy', async () => {
    const files = [...(await sourceFiles(path.join(repo, 'src'))), path.join(repo, 'electron.vite.config.ts'), path.join(repo, 'vite.renderer.config.ts')];
    const defining: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      if (DIRECTIVE.test(text) || /http-equiv=["']Content-Security-Policy/i.test(text)) defining.push(path.relative(repo, file));
    }
    expect(defining).toEqual([OWNER]);
  });

  it('Electron sends buildCsp() on its app:// responses and on every other response it loads', async () => {
    const main = await readFile(path.join(repo, 'src', 'main', 'electron', 'main.ts'), 'utf8');
    expect(main).toMatch(/import \{[^}]*\bbuildCsp\b[^}]*\} from '\.\.\/security\/contentSecurityPolicy'/);
    expect(main).toMatch(/const csp = buildCsp\(\)/);
    expect(main).toMatch(/'content-security-policy': csp/);
    expect(main).toMatch(/'Content-Security-Policy': \[csp\]/);
  });

  describe('the web server', () => {
    let base: string;
    let server: Server;
    let port: number;
    beforeAll(async () => {
      base = await mkdtemp(path.join(tmpdir(), 'csp-'));
      server = createWebServer({ api: createDefaultWorkbenchApi({ runsRoot: base }), token: 't'.repeat(40), staticDir: null });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(base, { recursive: true, force: true });
    });

    it.each([['/'], ['/api/listRuns']])('sends buildCsp() on %s', async (requestPath) => {
      const csp = await new Promise<string | undefined>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: requestPath, headers: { host: `127.0.0.1:${port}` } }, (res) => {
          res.resume();
          resolve(res.headers['content-security-policy'] as string | undefined);
        });
        req.on('error', reject);
        req.end();
      });
      expect(csp).toBe(buildCsp());
    });
  });
});
