import fc from 'fast-check';
import { backoffDelay, retryAfterMs, retryDelay } from '../../src/backoff.js';

describe('backoff with full jitter', () => {
  it('stays within [0, min(max, initial * multiplier^(retry-1))] for any policy and retry', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, initialDelayMs, extra, multiplier, r) => {
          const policy = {
            initialDelayMs,
            maxDelayMs: initialDelayMs + extra,
            multiplier,
            maxAttempts: Infinity,
          };
          const bound = Math.min(policy.maxDelayMs, initialDelayMs * multiplier ** (retry - 1));

          const delay = backoffDelay(retry, policy, () => r);

          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.ceil(bound));
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });

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

  it('waits at least what Retry-After asks, but never more than maxDelayMs', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, maxAttempts: Infinity };

    expect(retryDelay(1, policy, 600, () => 0.5)).toBe(600);
    expect(retryDelay(1, policy, 60_000, () => 0.5)).toBe(1000);
    expect(retryDelay(4, policy, 10, () => 1)).toBe(800);
    expect(retryDelay(1, policy, undefined, () => 0.5)).toBe(50);
  });

  it('grows exponentially up to the cap', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, maxAttempts: Infinity };
    const top = (retry: number) => backoffDelay(retry, policy, () => 1);

    expect([1, 2, 3, 4, 5, 6].map(top)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});
