import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// A spy on the model runtime: if any --help reached work that loads a model, this records it.
const loaded = vi.hoisted(() => ({ nodeLlamaCpp: 0 }));
vi.mock('node-llama-cpp', async (importOriginal) => {
  loaded.nodeLlamaCpp++;
  return await importOriginal();
});

import { main } from '../cli';
import type { AnyCommand } from './Command';
import { COMMANDS } from './commands/index';
import { defaultDemoConfigPath } from './commands/demo';
import { findPackageRoot } from '../packageRoot';
import type { CliIo } from './CliIo';

const packageRoot = findPackageRoot();
const bin = join(packageRoot, 'bin', 'stageb.js');

function collector() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

/** Every command path in the registry: `run`, `model`, `model tiny`, ... */
function commandPaths(commands: readonly AnyCommand[], parent: string[] = []): string[][] {
  return commands.flatMap((command) => [[...parent, command.name], ...commandPaths(command.subcommands ?? [], [...parent, command.name])]);
}

/** Every file under `dir` with its size and mtime; missing folders list as empty. */
async function listing(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return (await Promise.all(entries.map(async (entry) => {
    const file = join(entry.parentPath, entry.name);
    const info = await stat(file);
    return `${file} ${info.size} ${info.mtimeMs}`;
  }))).sort();
}

function spawnCli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A config with exactly three schema errors, on three lines. */
const THREE_ERRORS = ['run_name: x', 'seed: "abc"', 'mission: m', 'stage_a_paths: 5', 'guidance:', '  path: g.json', 'model:', '  backend: llama-cpp', '  path: m.gguf', '  context_size: -4', ''].join('\n');

let cwd: string;
const startCwd = process.cwd();
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'stageb-cli-'));
  process.chdir(cwd);
});
afterAll(async () => {
  process.chdir(startCwd);
  await rm(cwd, { recursive: true, force: true });
});

const paths = commandPaths(COMMANDS);

describe('stageb <command> --help', () => {
  it('covers every registered command and subcommand', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['run', 'validate', 'export', 'demo', 'demo-data', 'model', 'model tiny', 'model random', 'distill', 'distill run', 'distill split', 'compare', 'reviews', 'reviews export', 'reviews corrections', 'help']));
  });

  it.each(paths.map((p) => [p.join(' '), p]))('%s --help prints help, exits 0, writes nothing and loads no model', async (_name, commandPath) => {
    // The current folder, and where the demo writes in the package (no other test writes there;
    // resources/models is shared with the model tests running alongside).
    const watched = [cwd, join(packageRoot, 'runs', 'demo'), join(packageRoot, 'resources', 'demo')];
    const before = await Promise.all(watched.map(listing));
    for (const args of [[...commandPath, '--help'], [...commandPath, '-h'], [...commandPath, '--bogus', '--help'], ['--help', ...commandPath], ['help', ...commandPath]]) {
      const c = collector();
      expect(await main(args, c.io), args.join(' ')).toBe(0);
      expect(c.stdout()).toContain(`stageb ${commandPath.join(' ')}`);
      expect(c.stderr()).toBe('');
      expect(c.stdout()).not.toMatch(/model_load|loading|Run complete/);
    }
    expect(await Promise.all(watched.map(listing))).toEqual(before);
    expect(loaded.nodeLlamaCpp).toBe(0);
  });

  it('lists every command in the main help, with the exit codes', async () => {
    const c = collector();
    expect(await main(['--help'], c.io)).toBe(0);
    for (const p of paths.filter((p) => !COMMANDS.find((c) => c.name === p[0])?.subcommands || p.length > 1)) expect(c.stdout()).toContain(`  ${p.join(' ')} `);
    expect(c.stdout()).toMatch(/0 success, 1 failure, 2 usage error, 130 cancelled/);
  });
});

describe('stageb usage errors exit 2', () => {
  it.each([
    [['run', '--config', 'x.yaml', '--bogus'], /Unknown option '--bogus'/],
    [['run'], /missing --config <file>/],
    [['frob'], /unknown command "frob"/],
    [['model'], /"model" needs a command: tiny, random/],
    [['model', 'bogus'], /unknown command "model bogus"/],
    [['distill', 'split', '--input'], /--input/],
    [['validate', '--config', 'x.yaml', '--quiet', '--verbose'], /exclude each other/],
    [['demo-data', '--seed', 'abc'], /--seed needs an integer/],
    [['compare', '--runs', 'a'], /exactly two run directories/],
    [['--bogus'], /Unknown option '--bogus'/],
    [[], /usage: stageb <command>/],
  ])('%j', async (args, message) => {
    const c = collector();
    expect(await main(args, c.io)).toBe(2);
    expect(c.stderr()).toMatch(message);
    expect(c.stdout()).toBe('');
  });
});

describe('stageb demo --events-json', () => {
  it('reports a failure of the demo preparation (a config that does not validate) as one typed error event on stdout', async () => {
    const file = join(cwd, 'demo-three-errors.yaml');
    await writeFile(file, THREE_ERRORS);
    const c = collector();
    expect(await main(['demo', '--config', file, '--events-json'], c.io)).toBe(1);
    const events = c.stdout().trim().split('\n').map((line) => JSON.parse(line) as { type: string; error?: { code: string; location: { file?: string; line?: number } } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'error', error: { code: 'CONFIG_INVALID', location: { file } } });
  });
});

describe('stageb validate and export', () => {
  it('prints all three issues of a config with three errors, --flag=value alike', async () => {
    const file = join(cwd, 'three-errors.yaml');
    await writeFile(file, THREE_ERRORS);
    for (const args of [['validate', '--config', file], ['validate', `--config=${file}`]]) {
      const c = collector();
      expect(await main(args, c.io)).toBe(1);
      const lines = c.stderr().trim().split('\n');
      expect(lines).toEqual([
        `CONFIG_INVALID ${file}:2 field seed: Invalid input: expected number, received string`,
        `CONFIG_INVALID ${file}:4 field stage_a_paths: Invalid input: expected array, received number`,
        `CONFIG_INVALID ${file}:10 field model.context_size: Too small: expected number to be >0`,
        '3 issues',
      ]);
    }
    const json = collector();
    expect(await main(['validate', '--config', file, '--json'], json.io)).toBe(1);
    const parsed = JSON.parse(json.stdout()) as { ok: boolean; errors: { code: string; location: { line: number; field: string } }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.errors.map((e) => [e.location.line, e.location.field])).toEqual([[2, 'seed'], [4, 'stage_a_paths'], [10, 'model.context_size']]);
  });

  it('validate --json describes a valid config; export --json reports a run without selections', async () => {
    const { generateDemoMission } = await import('../demo/generateDemoMission');
    const demo = await generateDemoMission({ outDir: join(cwd, 'demo'), seed: 3, count: 20 });
    const file = join(cwd, 'ok.yaml');
    await writeFile(file, [
      'run_name: ok', 'mission: RRU接地与防水检查', 'stage_a_paths:', `  - ${demo.stageA}`, 'guidance:', `  path: ${demo.guidance}`,
      'model:', '  backend: llama-cpp', `  path: ${join(cwd, 'absent.gguf')}`, 'output:', `  root: ${join(cwd, 'runs')}`, '',
    ].join('\n'));
    const v = collector();
    expect(await main(['validate', '--config', file, '--json'], v.io)).toBe(0);
    expect(JSON.parse(v.stdout())).toMatchObject({ ok: true, mission: 'RRU接地与防水检查', tickets: 20, existing: 'none' });
    const e = collector();
    expect(await main(['export', '--config', file, '--json'], e.io)).toBe(1);
    expect(JSON.parse(e.stdout())).toMatchObject({ ok: false, errors: [{ code: 'EXPORT_MISSING_METADATA' }] });
    expect(loaded.nodeLlamaCpp).toBe(0);
  });
});

describe('stageb demo from any folder', () => {
  it("resolves its default config against the package root, not the current folder", async () => {
    expect(process.cwd()).not.toBe(packageRoot);
    expect(defaultDemoConfigPath()).toBe(join(packageRoot, 'configs', 'demo.yaml'));
    await expect(stat(defaultDemoConfigPath())).resolves.toBeTruthy();
  });
});

describe('bin/stageb.js', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await (await import('node:fs/promises')).readFile(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
    const result = await spawnCli(['--version'], cwd);
    expect(result).toEqual({ code: 0, stdout: `stageb ${version}\n`, stderr: '' });
  });

  it('demo --help from another folder exits 0 and writes nothing; an unknown flag exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stageb-bin-'));
    try {
      const help = await spawnCli(['demo', '--help'], dir);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('usage: stageb demo');
      expect(help.stderr).toBe('');
      const unknown = await spawnCli(['demo', '--bogus'], dir);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("Unknown option '--bogus'");
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
