import { createInterface } from 'node:readline';
import { RunControlMessageSchema, type RunControlMessage } from '../../shared/schemas/telemetry';

/** Subscribes to the workbench's pause / resume messages; returns the function that stops listening. */
export type RunControlSource = (listener: (message: RunControlMessage) => void) => () => void;

/** One control line as the launcher writes it (`{"type":"pause"}`); anything else is null and ignored. */
export function parseRunControlLine(line: string): RunControlMessage | null {
  const text = line.trim();
  if (text === '') return null;
  try {
    const parsed = RunControlMessageSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

type ControlInput = NodeJS.ReadableStream & { isTTY?: boolean; unref?: () => void };

/**
 * Control lines from a pipe (the Node launcher writes them to the engine's stdin). A terminal
 * is no control channel (`stageb run` is cancelled with Ctrl-C), and a closed or empty stdin
 * (CI, `< /dev/null`) just never sends anything. Stopping releases stdin so the process can exit.
 */
export function readRunControlLines(input: ControlInput, listener: (message: RunControlMessage) => void): () => void {
  if (input.isTTY) return () => undefined;
  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  const onLine = (line: string) => {
    const message = parseRunControlLine(line);
    if (message) listener(message);
  };
  const ignore = () => undefined;
  lines.on('line', onLine);
  // A parent that went away leaves a broken pipe: the run goes on (its cancel is a signal).
  input.on('error', ignore);
  return () => {
    lines.off('line', onLine);
    lines.close();
    input.pause();
    // A pipe the parent keeps open would hold the process after its work is done.
    input.unref?.();
    input.off('error', ignore);
  };
}

/** Electron's utilityProcess side of the channel (process.parentPort), typed here so the CLI never imports electron. */
type ParentPort = {
  on(event: 'message', listener: (message: { data: unknown }) => void): unknown;
  off(event: 'message', listener: (message: { data: unknown }) => void): unknown;
};

/**
 * The engine host's control channel: parentPort messages in an Electron utilityProcess, stdin
 * lines in a Node child process. No signals, so it works the same on Windows.
 */
export const processRunControlSource: RunControlSource = (listener) => {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    const onMessage = (message: { data: unknown }) => {
      const parsed = RunControlMessageSchema.safeParse(message.data);
      if (parsed.success) listener(parsed.data);
    };
    parentPort.on('message', onMessage);
    return () => parentPort.off('message', onMessage);
  }
  return readRunControlLines(process.stdin, listener);
};
