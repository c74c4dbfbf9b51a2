import fc from 'fast-check';
import { backoffDelay } from '../../src/backoff.js';

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

  it('grows exponentially up to the cap', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, maxAttempts: Infinity };
    const top = (retry: number) => backoffDelay(retry, policy, () => 1);

    expect([1, 2, 3, 4, 5, 6].map(top)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});
