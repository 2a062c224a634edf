import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { StageBError, toStageBError } from '../../shared/errors';
import { createDefaultWorkbenchApi, findProjectRoot } from '../api/createDefaultWorkbenchApi';
import { createToken } from '../security/checkToken';
import { defineCommand } from '../cli/Command';
import { EXIT } from '../cli/exitCodes';
import { formatCommandHelp } from '../cli/formatHelp';
import { asksForHelp, parseCommandLine } from '../cli/parseCommandLine';
import { integerOption, UsageError } from '../cli/UsageError';
import { createWebServer } from './createWebServer';

/** The web launcher's flags, on the parser every `stageb` command uses (strict, `--flag value` or `--flag=value`). */
export const workbenchWebCommand = defineCommand({
  name: 'workbench-web',
  summary: 'the Stage-B workbench over loopback HTTP; prints one line with the URL and its per-launch token',
  usage: '[--runs runs] [--configs configs] [--port 4100] [--host 127.0.0.1] [--static <dir>]',
  options: {
    runs: { type: 'string', value: 'dir', default: 'runs', description: 'the runs folder (output.root of the run configs)' },
    configs: { type: 'string', value: 'dir', description: 'the configs folder the launcher lists (default: $STAGEB_CONFIGS, else ./configs when it exists)' },
    port: { type: 'string', value: 'n', default: '4100', description: 'TCP port; 0 picks a free one' },
    host: { type: 'string', value: 'addr', default: '127.0.0.1', description: 'address to bind; prefer an SSH tunnel to a public bind' },
    static: { type: 'string', value: 'dir', description: 'the built renderer to serve (default out/renderer)' },
  },
});

export const WEB_USAGE = formatCommandHelp(workbenchWebCommand, [], 'npm run workbench:web --');

export type WebCliArgs = { runs: string; configs: string | null; port: number; host: string; staticDir: string | null; quiet: boolean };

/**
 * The configs folder when --configs is not given: STAGEB_CONFIGS, else `configs/` of the
 * current folder when it exists (as the Electron app does), else none.
 */
export function defaultConfigsFolder(cwd: string, env: NodeJS.ProcessEnv): string | null {
  if (env.STAGEB_CONFIGS) return path.resolve(cwd, env.STAGEB_CONFIGS);
  const local = path.join(cwd, 'configs');
  return existsSync(local) ? local : null;
}

/** Throws UsageError (exit 2) on a wrong command line; relative folders resolve against `cwd`. */
export function parseWebArgs(argv: string[], where: { cwd: string; env: NodeJS.ProcessEnv } = { cwd: process.cwd(), env: process.env }): WebCliArgs {
  const { values, verbosity } = parseCommandLine(workbenchWebCommand, argv, []);
  const port = integerOption('port', values.port as string, { min: 0, max: 65535 })!;
  const configs = values.configs as string | undefined;
  const staticDir = values.static as string | undefined;
  return {
    runs: path.resolve(where.cwd, values.runs as string),
    configs: configs !== undefined ? path.resolve(where.cwd, configs) : defaultConfigsFolder(where.cwd, where.env),
    port,
    host: values.host as string,
    staticDir: staticDir !== undefined ? path.resolve(where.cwd, staticDir) : null,
    quiet: verbosity === 'quiet',
  };
}

/** Starts the server; resolves with the URL line printed (token included) and a stop function. */
export async function startWorkbenchWeb(args: WebCliArgs, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process) {
  const runsRoot = await realpath(args.runs).catch(() => {
    throw new StageBError('INPUT_NOT_FOUND', `runs folder not found: ${args.runs}`, { file: args.runs });
  });
  const configsRoot = args.configs ? await realpath(args.configs).catch(() => {
    throw new StageBError('CONFIG_NOT_FOUND', `configs folder not found: ${args.configs}`, { file: args.configs ?? '', field: '--configs' });
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
  if (asksForHelp(argv)) {
    process.stdout.write(WEB_USAGE);
    return EXIT.ok;
  }
  try {
    const { stop } = await startWorkbenchWeb(parseWebArgs(argv));
    const shutdown = () => void stop().then(() => process.exit(0));
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    return await new Promise<number>(() => undefined);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\nRun 'npm run workbench:web -- --help' for the options.\n`);
      return EXIT.usage;
    }
    process.stderr.write(`${toStageBError(error).format()}\n`);
    return EXIT.failure;
  }
}
