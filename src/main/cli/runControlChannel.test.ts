import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunControlMessage } from '../../shared/schemas/telemetry';
import { parseRunControlLine, readRunControlLines } from './runControlChannel';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the engine host\'s control lines', () => {
  it('reads pause and resume, one JSON object per line, and ignores anything else', async () => {
    const input = new PassThrough();
    const seen: RunControlMessage[] = [];
    const stop = readRunControlLines(input, (message) => seen.push(message));
    input.write('{"type":"pause"}\n');
    input.write('not json\n{"type":"explode"}\n\n{"type":');
    input.write('"resume"}\r\n');
    await settle();
    expect(seen).toEqual([{ type: 'pause' }, { type: 'resume' }]);
    stop();
    input.write('{"type":"pause"}\n');
    await settle();
    expect(seen).toHaveLength(2);
    expect(input.isPaused()).toBe(true);
  });

  it('leaves a terminal alone (stageb run is cancelled with Ctrl-C) and does not break on a closed stdin', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const seen: RunControlMessage[] = [];
    const stopTty = readRunControlLines(tty, (message) => seen.push(message));
    tty.write('{"type":"pause"}\n');
    await settle();
    expect(seen).toEqual([]);
    expect(tty.listenerCount('data')).toBe(0);
    stopTty();

    const closed = new PassThrough();
    closed.end();
    const stopClosed = readRunControlLines(closed, (message) => seen.push(message));
    await settle();
    expect(seen).toEqual([]);
    expect(() => stopClosed()).not.toThrow();
  });

  it('parses one line', () => {
    expect(parseRunControlLine(' {"type":"pause"} ')).toEqual({ type: 'pause' });
    expect(parseRunControlLine('{"type":"cancel"}')).toBeNull();
    expect(parseRunControlLine('')).toBeNull();
  });
});

describe('a real engine host process', () => {
  let dir: string;
  let script: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stageb-control-'));
    script = path.join(dir, 'host.mts');
    // What runCancellable does with processRunControlSource: listen while the work runs, then stop.
    await writeFile(script, [
      `import { processRunControlSource } from ${JSON.stringify(path.resolve(import.meta.dirname, 'runControlChannel.ts'))};`,
      'const stop = processRunControlSource((message) => process.stdout.write(`got ${message.type}\\n`));',
      'process.stdout.write("ready\\n");',
      'await new Promise((resolve) => setTimeout(resolve, Number(process.argv[2] ?? 0)));',
      'stop();',
      'process.stdout.write("done\\n");',
    ].join('\n'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function host(stdin: 'pipe' | 'ignore', workMs: number) {
    const child = spawn(process.execPath, ['--import', 'tsx', script, String(workMs)], { stdio: [stdin, 'pipe', 'pipe'], cwd: path.resolve(import.meta.dirname, '../../..') });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, output: () => out };
  }

  it('hears pause and resume on its stdin, and exits when the work ends though the parent keeps stdin open', { timeout: 60_000 }, async () => {
    const engine = host('pipe', 3000);
    await Promise.race([engine.exited, new Promise<void>((resolve) => engine.child.stdout!.on('data', () => engine.output().includes('ready') && resolve()))]);
    engine.child.stdin!.write('{"type":"pause"}\n{"type":"resume"}\n');
    // stdin is never closed here: a listener that held it would keep the process alive forever.
    await expect(engine.exited).resolves.toBe(0);
    expect(engine.output()).toContain('got pause\ngot resume\ndone\n');
  });

  it('runs with no stdin at all (CI, a closed stdin)', { timeout: 60_000 }, async () => {
    const engine = host('ignore', 0);
    await expect(engine.exited).resolves.toBe(0);
    expect(engine.output()).toBe('ready\ndone\n');
  });
});
