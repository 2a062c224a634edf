import { describe, expect, it } from 'vitest';
import type { RunControlMessage } from '../../shared/schemas/telemetry';
import type { CliIo } from './CliIo';
import { runCancellable } from './runWithProgress';

/** An io whose control source the test drives, recording when it is listened to. */
function ioWithControls() {
  let listener: ((message: RunControlMessage) => void) | null = null;
  const log: string[] = [];
  const io: CliIo = {
    stdout: { write: () => true },
    stderr: { write: () => true },
    runControl: (next) => {
      listener = next;
      log.push('listening');
      return () => {
        listener = null;
        log.push('stopped');
      };
    },
  };
  return { io, log, send: (message: RunControlMessage) => listener?.(message) };
}

describe('runCancellable and the workbench\'s pause / resume', () => {
  it('gives an engine host (--events-json) a control the workbench pauses and resumes, and stops listening when the work ends', async () => {
    const { io, log, send } = ioWithControls();
    const states = await runCancellable({ eventsJson: true, verbosity: 'normal', io }, async ({ control }) => {
      const seen = [control?.state];
      send({ type: 'pause' });
      seen.push(control?.state);
      send({ type: 'resume' });
      seen.push(control?.state);
      return seen;
    });
    expect(states).toEqual(['running', 'pausing', 'running']);
    expect(log).toEqual(['listening', 'stopped']);
  });

  it('gives a terminal run no control and reads nothing', async () => {
    const { io, log } = ioWithControls();
    const control = await runCancellable({ eventsJson: false, verbosity: 'normal', io }, async ({ control }) => control);
    expect(control).toBeUndefined();
    expect(log).toEqual([]);
  });

  it('stops listening when the work fails too', async () => {
    const { io, log } = ioWithControls();
    await expect(runCancellable({ eventsJson: true, verbosity: 'normal', io }, async () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(log).toEqual(['listening', 'stopped']);
  });
});
