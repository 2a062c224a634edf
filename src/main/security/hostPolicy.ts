const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * DNS-rebinding defence: a request is served only if its Host header names a
 * loopback address at the server's own port (or, when bound elsewhere on purpose,
 * the exact bind host).
 */
export function isAllowedHost(hostHeader: string | undefined, port: number, extraHosts: readonly string[] = []): boolean {
  if (typeof hostHeader !== 'string' || hostHeader.length === 0 || hostHeader.length > 300) return false;
  const host = hostHeader.trim().toLowerCase();
  const allowed = [...LOOPBACK_NAMES, ...extraHosts.map((name) => name.toLowerCase())];
  return allowed.some((name) => host === `${name}:${port}`);
}
