import { app, BrowserWindow, ipcMain, protocol, session, type WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../../shared/api/transport';
import { createDefaultWorkbenchApi } from '../api/createDefaultWorkbenchApi';
import { buildCsp } from '../security/contentSecurityPolicy';
import { isAllowedNavigation } from '../security/navigationPolicy';
import { resolveInsideRoots } from '../security/resolveInsideRoots';
import { APP_HOST, APP_ORIGIN, APP_SCHEME, SECURE_WEB_PREFERENCES, decidePermission, decideWindowOpen } from '../security/windowPolicy';
import { createElectronEngineLauncher } from './electronEngineLauncher';
import { handleIpcInvoke } from './handleIpcInvoke';

// Built layout (electron-vite): out/main/index.js (package.json main), out/main/engineHost.js, out/preload/index.cjs, out/renderer/.
const here = path.dirname(fileURLToPath(import.meta.url));
const rendererDir = path.join(here, '../renderer');
const preloadPath = path.join(here, '../preload/index.cjs');
const engineHostPath = path.join(here, 'engineHost.js');
const devServerUrl = process.env.ELECTRON_RENDERER_URL ?? null;
const appOrigin = devServerUrl ? new URL(devServerUrl).origin : APP_ORIGIN;

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.json': 'application/json', '.wasm': 'application/wasm', '.ttf': 'font/ttf' };

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }]);

function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, appOrigin)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url, appOrigin)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => decideWindowOpen(url));
}

async function createWindow(): Promise<BrowserWindow> {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    show: false,
    title: 'Stage-B Workbench',
    // The four decisive flags are spelled out here (for auditors and static scanners such
    // as electronegativity); the rest comes from the tested SECURE_WEB_PREFERENCES.
    webPreferences: {
      ...SECURE_WEB_PREFERENCES,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      disableBlinkFeatures: 'Auxclick',
      preload: preloadPath,
    },
  });
  window.once('ready-to-show', () => window.show());
  // A renderer crash reloads the page; the main process and any engine job stay up.
  window.webContents.on('render-process-gone', (_event, details) => {
    if (details.reason !== 'clean-exit' && !window.isDestroyed()) void window.reload();
  });
  await window.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
  return window;
}

app.on('web-contents-created', (_event, contents) => hardenContents(contents));

app.whenReady().then(async () => {
  const csp = buildCsp();
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response('not found', { status: 404 });
    const relative = url.pathname === '/' ? 'index.html' : url.pathname.replace(/^\/+/, '');
    try {
      const file = await resolveInsideRoots([rendererDir], relative);
      const body = await readFile(file);
      return new Response(body, { headers: { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream', 'content-security-policy': csp, 'x-content-type-options': 'nosniff' } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) => callback(decidePermission(permission, details.requestingUrl)));
  session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) => decidePermission(permission, requestingOrigin));

  const runsRoot = argValue('--runs') ?? process.env.STAGEB_RUNS ?? path.resolve('runs');
  const configsRoot = argValue('--configs') ?? process.env.STAGEB_CONFIGS ?? path.resolve('configs');
  const api = createDefaultWorkbenchApi({ runsRoot, configsRoot, engineLauncher: createElectronEngineLauncher(engineHostPath) });

  ipcMain.handle(IPC_INVOKE_CHANNEL, (event, payload) =>
    handleIpcInvoke(api.handlers, appOrigin, { channel: IPC_INVOKE_CHANNEL, senderUrl: event.senderFrame?.url ?? null, payload }),
  );

  let window = await createWindow();
  api.events.subscribe((event) => {
    if (!window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, event);
  });
  app.on('activate', async () => {
    if (BrowserWindow.getAllWindows().length === 0) window = await createWindow();
  });
  app.on('before-quit', () => api.jobs.shutdown());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
