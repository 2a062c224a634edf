import { utilityProcess } from 'electron';
import { createInterface } from 'node:readline';
import type { EngineLauncher, EngineProcess } from '../api/JobRunner';
import { engineArgs } from '../api/nodeEngineLauncher';

/**
 * Electron mode: the engine host runs in a utilityProcess (a Node process the
 * window does not share), speaking the same `--events-json` protocol as the CLI.
 * Pause and resume are messages to its process.parentPort (runControlChannel.ts); Electron
 * queues them until the engine listens, so a pause asked for while it starts is not lost.
 */
export function createElectronEngineLauncher(engineHostPath: string): EngineLauncher {
  return ({ kind, configPath, jobId, extraArgs }) => {
    const child = utilityProcess.fork(engineHostPath, engineArgs(kind, configPath, extraArgs), { stdio: 'pipe', serviceName: `stageb-engine-${jobId.slice(0, 8)}` });
    const exitListeners: ((exit: { code: number | null; signal: string | null; error?: Error }) => void)[] = [];
    let exited = false;
    let stdoutClosed: Promise<void> = Promise.resolve();
    child.on('exit', (code) => {
      if (exited) return;
      exited = true;
      void stdoutClosed.then(() => exitListeners.forEach((listener) => listener({ code, signal: null })));
    });
    const engine: EngineProcess = {
      onStdoutLine(listener) {
        if (!child.stdout) return;
        const lines = createInterface({ input: child.stdout });
        lines.on('line', listener);
        stdoutClosed = new Promise((resolve) => lines.on('close', () => resolve()));
      },
      onStderrLine(listener) {
        if (child.stderr) createInterface({ input: child.stderr }).on('line', listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      send(control) {
        if (exited) return false;
        try {
          child.postMessage(control);
          return true;
        } catch {
          return false;
        }
      },
      kill(signal) {
        if (exited) return;
        if (signal === 'SIGKILL' && child.pid !== undefined) {
          try {
            process.kill(child.pid, 'SIGKILL');
            return;
          } catch {
            // fall through to Electron's own kill
          }
        }
        child.kill();
      },
    };
    return engine;
  };
}
