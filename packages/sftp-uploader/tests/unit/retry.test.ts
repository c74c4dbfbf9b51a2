import fc from 'fast-check';
import { backoffDelay } from '../../src/retry.js';

describe('backoffDelay', () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };

  it('doubles the step each retry up to the cap, jittered between half and all of it', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
    expect(backoffDelay(10, policy, () => 0)).toBe(500);
  });

  it('always stays within [step/2, step] for any retry and random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (retry, base, max, r) => {
          const p = { maxAttempts: 5, baseDelayMs: base, maxDelayMs: max };
          const step = Math.min(max, base * 2 ** (retry - 1));
          const d = backoffDelay(retry, p, () => r);
          expect(d).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(d).toBeLessThanOrEqual(Math.ceil(step));
        },
      ),
    );
  });
});
