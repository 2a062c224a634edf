import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../shared/schemas/telemetry';
import { PausableRunControl } from './RunControl';

const boundary = { epoch: 1, batchIndex: 2, batches: 4 };

/** A control on a hand-moved clock, with the events it announced. */
function controlled(signal?: AbortSignal) {
  let ms = 1000;
  const announced: RunEvent[] = [];
  const control = new PausableRunControl({ signal, clock: () => ms, now: () => `t${ms}` });
  const announce = async (event: RunEvent) => {
    announced.push(event);
  };
  return { control, announced, announce, advance: (by: number) => (ms += by) };
}

/** Lets every queued promise reaction run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PausableRunControl', () => {
  it('passes a boundary at once when no pause was asked for', async () => {
    const { control, announced, announce } = controlled();
    await expect(control.atBatchBoundary(boundary, announce)).resolves.toBe(0);
    expect(announced).toEqual([]);
    expect(control.state).toBe('running');
  });

  it('waits at the next boundary after a pause, and continues on resume with the time it waited', async () => {
    const { control, announced, announce, advance } = controlled();
    control.pause();
    expect(control.state).toBe('pausing');
    let passed = false;
    const waiting = control.atBatchBoundary(boundary, announce).then((ms) => {
      passed = true;
      return ms;
    });
    await settle();
    expect(passed).toBe(false);
    expect(control.state).toBe('paused');
    expect(announced).toEqual([{ type: 'paused', ts: 't1000', epoch: 1, batch_index: 2, batches: 4 }]);
    // Asking again while paused changes nothing.
    control.pause();
    advance(7000);
    await settle();
    expect(passed).toBe(false);
    control.resume();
    await expect(waiting).resolves.toBe(7000);
    expect(announced[1]).toEqual({ type: 'resumed', ts: 't8000', epoch: 1, batch_index: 2, paused_ms: 7000 });
    expect(control.state).toBe('running');
    // Resumed is resumed: the next boundary passes.
    await expect(control.atBatchBoundary({ ...boundary, batchIndex: 3 }, announce)).resolves.toBe(0);
    expect(announced).toHaveLength(2);
  });

  it('does not pause when the pause is withdrawn before the boundary', async () => {
    const { control, announced, announce } = controlled();
    control.pause();
    control.resume();
    await expect(control.atBatchBoundary(boundary, announce)).resolves.toBe(0);
    expect(announced).toEqual([]);
  });

  it('continues when the resume comes while `paused` is being written', async () => {
    const { control, announced } = controlled();
    control.pause();
    const ms = await control.atBatchBoundary(boundary, async (event) => {
      announced.push(event);
      if (event.type === 'paused') control.resume();
    });
    expect(ms).toBe(0);
    expect(announced.map((e) => e.type)).toEqual(['paused', 'resumed']);
  });

  it('ends a paused wait with CANCELLED when the run is cancelled', async () => {
    const abort = new AbortController();
    const { control, announced, announce } = controlled(abort.signal);
    control.pause();
    const waiting = control.atBatchBoundary(boundary, announce);
    await settle();
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(announced.map((e) => e.type)).toEqual(['paused']);
    expect(control.state).toBe('pausing');
  });

  it('does not wait at all when the run was cancelled before the boundary', async () => {
    const abort = new AbortController();
    abort.abort();
    const { control, announced, announce } = controlled(abort.signal);
    control.pause();
    await expect(control.atBatchBoundary(boundary, announce)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(announced).toEqual([]);
  });
});
