/**
 * Where the app window may go: only documents of the app's own origin. Anything
 * else (javascript:, data:, file:, other hosts, other ports) is refused, and so is
 * anything that does not parse as a URL.
 */
export function isAllowedNavigation(url: string, appOrigin: string): boolean {
  if (typeof url !== 'string' || url.length === 0 || url.length > 8192) return false;
  if (/[\0\s]/.test(url)) return false;
  let target: URL;
  let app: URL;
  try {
    target = new URL(url);
    app = new URL(appOrigin);
  } catch {
    return false;
  }
  if (target.username || target.password) return false;
  // URL.origin is 'null' for non-special schemes such as app://, so compare the parts.
  return target.protocol === app.protocol && target.host.toLowerCase() === app.host.toLowerCase() && target.host !== '';
}

/** The same check for the frame that sent an IPC message (event.senderFrame.url). */
export function isTrustedSenderUrl(senderUrl: string | null | undefined, appOrigin: string): boolean {
  if (!senderUrl) return false;
  return isAllowedNavigation(senderUrl, appOrigin);
}
