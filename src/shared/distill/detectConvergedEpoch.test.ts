import { describe, expect, it } from 'vitest';
import { detectConvergedEpoch } from './detectConvergedEpoch';

describe('detectConvergedEpoch', () => {
  it('picks the last epoch in which no update was applied', () => {
    const result = detectConvergedEpoch(
      [
        { epoch: 0, applied_updates: 3 },
        { epoch: 1, applied_updates: 0 },
        { epoch: 2, applied_updates: 1 },
        { epoch: 3, applied_updates: 0 },
        { epoch: 4, applied_updates: 2 },
      ],
      { exportLastIfUnconverged: false },
    );
    expect(result.status).toBe('written');
    expect(result.epoch).toBe(3);
  });

  it('does not depend on the order epochs are listed in', () => {
    const result = detectConvergedEpoch(
      [
        { epoch: 2, applied_updates: 0 },
        { epoch: 0, applied_updates: 0 },
        { epoch: 1, applied_updates: 4 },
      ],
      { exportLastIfUnconverged: false },
    );
    expect(result.epoch).toBe(2);
  });

  it('writes nothing when no epoch converged', () => {
    const result = detectConvergedEpoch(
      [
        { epoch: 0, applied_updates: 2 },
        { epoch: 1, applied_updates: 1 },
      ],
      { exportLastIfUnconverged: false },
    );
    expect(result).toMatchObject({ status: 'not_converged', epoch: null });
    expect(result.message).toContain('epoch 1: 1');
  });

  it('exports the last epoch with a warning when the flag is set and nothing converged', () => {
    const result = detectConvergedEpoch(
      [
        { epoch: 1, applied_updates: 1 },
        { epoch: 0, applied_updates: 2 },
      ],
      { exportLastIfUnconverged: true },
    );
    expect(result.status).toBe('written_unconverged');
    expect(result.epoch).toBe(1);
    expect(result.message).toMatch(/^WARNING/);
  });

  it('prefers a converged epoch over the flag', () => {
    const result = detectConvergedEpoch(
      [
        { epoch: 0, applied_updates: 0 },
        { epoch: 1, applied_updates: 2 },
      ],
      { exportLastIfUnconverged: true },
    );
    expect(result).toMatchObject({ status: 'written', epoch: 0 });
  });

  it('treats an epoch whose guidance step moved (a hand edit) as not converged', () => {
    const result = detectConvergedEpoch(
      [
        { epoch: 0, applied_updates: 0, guidance_step_start: 2, guidance_step_end: 2 },
        { epoch: 1, applied_updates: 0, guidance_step_start: 2, guidance_step_end: 3 },
      ],
      { exportLastIfUnconverged: false },
    );
    expect(result.epoch).toBe(0);
  });

  it('reports not_converged for a run without epochs, even with the flag', () => {
    expect(detectConvergedEpoch([], { exportLastIfUnconverged: true })).toMatchObject({ status: 'not_converged', epoch: null });
  });
});
