/** BrowserWindow webPreferences: the renderer gets no Node and runs sandboxed and isolated. */
export const SECURE_WEB_PREFERENCES = Object.freeze({
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  experimentalFeatures: false,
  enableBlinkFeatures: '',
  // Middle-click would otherwise open links in a new window, bypassing will-navigate.
  disableBlinkFeatures: 'Auxclick',
  spellcheck: false,
  navigateOnDragDrop: false,
} as const);

/** The app asks for no device or browser permission, so every request and check is refused. */
export function decidePermission(_permission: string, _requestingUrl?: string): boolean {
  return false;
}

/** window.open / target=_blank: always denied (links to the outside are not opened from the app). */
export function decideWindowOpen(_url: string): { action: 'deny' } {
  return { action: 'deny' };
}

/** The custom scheme the Electron app is served from. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
