import { describe, expect, it } from '@jest/globals';
import { backoffDelay, DEFAULT_BACKOFF, sleep } from '../../src/index.js';

describe('backoffDelay', () => {
  it('doubles from baseMs and stops at maxMs without jitter', () => {
    const policy = { baseMs: 100, maxMs: 1000, jitter: 'none' } as const;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('keeps equal jitter within [d/2, d], never near zero', () => {
    expect(backoffDelay(3, { baseMs: 100 }, () => 0)).toBe(200);
    expect(backoffDelay(3, { baseMs: 100 }, () => 0.999999)).toBe(400);
  });

  it('spreads full jitter over [0, d]', () => {
    expect(backoffDelay(2, { baseMs: 100, jitter: 'full' }, () => 0)).toBe(0);
    expect(backoffDelay(2, { baseMs: 100, jitter: 'full' }, () => 0.5)).toBe(100);
  });

  it('defaults to 200 ms base, 5 s cap and equal jitter', () => {
    expect(DEFAULT_BACKOFF).toEqual({ baseMs: 200, maxMs: 5000, jitter: 'equal' });
    expect(backoffDelay(100, {}, () => 1)).toBe(5000);
  });
});

describe('sleep', () => {
  it('rejects with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('stopping'));
    await expect(pending).rejects.toThrow('stopping');
  });

  it('rejects at once for an already aborted signal and resolves otherwise', async () => {
    await expect(sleep(10, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    await expect(sleep(1)).resolves.toBeUndefined();
  });
});
