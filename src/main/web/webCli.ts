import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { StageBError, toStageBError } from '../../shared/errors';
import { createDefaultWorkbenchApi, findProjectRoot } from '../api/createDefaultWorkbenchApi';
import { createToken } from '../security/checkToken';
import { createWebServer } from './createWebServer';

export const WEB_USAGE = `workbench-web — the Stage-B workbench over loopback HTTP

Usage:
  npm run workbench:web -- --runs <dir> [--configs <dir>] [--port N] [--host 127.0.0.1] [--static <dir>] [--quiet]

Prints one line with the URL and its per-launch token; open it in a browser.`;

export type WebCliArgs = { runs: string; configs: string | null; port: number; host: string; staticDir: string | null; quiet: boolean };

export function parseWebArgs(argv: string[]): WebCliArgs {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(name);
    if (index === -1) return undefined;
    const next = argv[index + 1];
    if (next === undefined || next.startsWith('--')) throw new StageBError('CONFIG_INVALID', `${name} needs a value`, { field: name });
    return next;
  };
  const runs = value('--runs');
  if (!runs) throw new StageBError('CONFIG_INVALID', `missing --runs\n\n${WEB_USAGE}`, { field: '--runs' });
  const port = Number(value('--port') ?? '4100');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StageBError('CONFIG_INVALID', '--port must be 0..65535', { field: '--port' });
  return { runs, configs: value('--configs') ?? null, port, host: value('--host') ?? '127.0.0.1', staticDir: value('--static') ?? null, quiet: argv.includes('--quiet') };
}

/** Starts the server; resolves with the URL line printed (token included) and a stop function. */
export async function startWorkbenchWeb(args: WebCliArgs, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process) {
  const runsRoot = await realpath(args.runs).catch(() => {
    throw new StageBError('INPUT_NOT_FOUND', `runs folder not found: ${args.runs}`, { file: args.runs });
  });
  const configsRoot = args.configs ? await realpath(args.configs).catch(() => {
    throw new StageBError('CONFIG_NOT_FOUND', `configs folder not found: ${args.configs}`, { file: args.configs ?? '' });
  }) : null;
  const projectRoot = findProjectRoot();
  const builtRenderer = path.join(projectRoot, 'out', 'renderer');
  const staticDir = args.staticDir ? path.resolve(args.staticDir) : existsSync(path.join(builtRenderer, 'index.html')) ? builtRenderer : null;
  const api = createDefaultWorkbenchApi({ runsRoot, configsRoot, projectRoot });
  const token = createToken();
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(args.host);
  const server = createWebServer({
    api,
    token,
    staticDir,
    extraHosts: loopback ? [] : [args.host],
    log: args.quiet ? undefined : (line) => io.stderr.write(`${line}\n`),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(toStageBError(error, 'INTERNAL')));
    server.listen(args.port, args.host, () => resolve());
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : args.port;
  const hostForUrl = args.host.includes(':') ? `[${args.host}]` : args.host;
  const url = `http://${hostForUrl}:${port}/#token=${token}`;
  if (!staticDir) io.stderr.write('note: no renderer build found (out/renderer); run `npx electron-vite build` — serving the API only\n');
  if (!loopback) io.stderr.write(`warning: bound to ${args.host}; anyone who can reach it and has the token can use the workbench\n`);
  io.stdout.write(`Stage-B workbench: ${url}\n`);
  const stop = async () => {
    api.jobs.shutdown();
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url, port, token, server, stop };
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${WEB_USAGE}\n`);
    return 0;
  }
  try {
    const { stop } = await startWorkbenchWeb(parseWebArgs(argv));
    const shutdown = () => void stop().then(() => process.exit(0));
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    return await new Promise<number>(() => undefined);
  } catch (error) {
    process.stderr.write(`${toStageBError(error).format()}\n`);
    return 1;
  }
}
