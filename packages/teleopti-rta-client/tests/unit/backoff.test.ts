import { retryAfterMs, retryDelay } from '../../src/backoff.js';

describe('retry delays', () => {
  it('reads Retry-After as seconds or an HTTP date, and ignores anything else', () => {
    const now = Date.parse('2024-05-01T08:00:00Z');

    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Wed, 01 May 2024 08:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Wed, 01 May 2024 07:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-1', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it('waits at least what Retry-After asks (core backoff otherwise), but never more than maxMs', () => {
    const policy = {
      baseMs: 100,
      maxMs: 1000,
      jitter: 'full' as const,
      maxAttempts: Infinity,
      maxElapsedMs: Infinity,
    };

    expect(retryDelay(1, policy, 600, () => 0.5)).toBe(600);
    expect(retryDelay(1, policy, 60_000, () => 0.5)).toBe(1000);
    expect(retryDelay(4, policy, 10, () => 1)).toBe(800);
    expect(retryDelay(1, policy, undefined, () => 0.5)).toBe(50);
  });
});
