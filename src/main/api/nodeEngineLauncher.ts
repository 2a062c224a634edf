import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { JobKind } from '../../shared/api/contract';
import type { EngineLauncher, EngineProcess } from './JobRunner';

/**
 * The argv of the engine CLI for a job; the Electron utilityProcess uses the same.
 * A distillation job is `stageb distill run`: the Stage-B run of a config with
 * stage_b_distillation enabled, then the train/val split of its corpus. Attribution
 * and preview measure the run in directory `configPath` (`--run`).
 */
export function engineArgs(kind: JobKind, configPath: string, extraArgs: readonly string[] = []): string[] {
  switch (kind) {
    case 'distill':
      return ['distill', 'run', '--config', configPath, '--events-json', ...extraArgs];
    case 'attribution':
      return ['attribute', '--run', configPath, '--events-json', ...extraArgs];
    case 'preview':
      return ['preview', '--run', configPath, '--events-json', ...extraArgs];
    case 'stage_b':
      return ['run', '--config', configPath, '--events-json', ...extraArgs];
  }
}

/**
 * Web/CLI mode: the engine host is `node bin/stageb.js run --config <path> --events-json`
 * in a child process (own process group, so a cancel reaches its children too). Pause and
 * resume travel as JSON lines on its stdin (src/main/cli/runControlChannel.ts reads them).
 */
export function createNodeEngineLauncher(options: { stagebBin: string; nodePath?: string; cwd?: string; env?: NodeJS.ProcessEnv }): EngineLauncher {
  return ({ kind, configPath, extraArgs }) => {
    const child = spawn(options.nodePath ?? process.execPath, [options.stagebBin, ...engineArgs(kind, configPath, extraArgs)], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    const exitListeners: ((exit: { code: number | null; signal: string | null; error?: Error }) => void)[] = [];
    let exited = false;
    const finish = (exit: { code: number | null; signal: string | null; error?: Error }) => {
      if (exited) return;
      exited = true;
      for (const listener of exitListeners) listener(exit);
    };
    let stdoutDone: Promise<void> = Promise.resolve();
    // An engine that exited (or closed its stdin) makes a late write fail: send reports it, nothing throws.
    child.stdin?.on('error', () => undefined);
    const engine: EngineProcess = {
      onStdoutLine(listener) {
        const lines = createInterface({ input: child.stdout! });
        lines.on('line', listener);
        stdoutDone = new Promise((resolve) => lines.on('close', () => resolve()));
      },
      onStderrLine(listener) {
        createInterface({ input: child.stderr! }).on('line', listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      send(control) {
        const stdin = child.stdin;
        if (exited || !stdin || stdin.destroyed || !stdin.writable) return false;
        stdin.write(`${JSON.stringify(control)}\n`);
        return true;
      },
      kill(signal) {
        if (exited || child.pid === undefined) return;
        try {
          if (process.platform !== 'win32') process.kill(-child.pid, signal);
          else child.kill(signal);
        } catch {
          child.kill(signal);
        }
      },
    };
    child.on('error', (error) => finish({ code: null, signal: null, error }));
    // 'close' waits for stdio, but the readline may still be flushing: wait for it too.
    child.on('close', (code, signal) => void stdoutDone.then(() => finish({ code, signal })));
    return engine;
  };
}
