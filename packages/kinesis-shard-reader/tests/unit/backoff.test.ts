import fc from 'fast-check';
import { backoffDelay } from '../../src/backoff.js';

describe('backoffDelay', () => {
  it('never waits less than baseMs nor more than maxMs, and grows (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (attempt, baseMs, extra, r) => {
          const maxMs = baseMs + extra;
          const d = backoffDelay(attempt, { baseMs, maxMs }, () => r);
          expect(d).toBeGreaterThanOrEqual(baseMs);
          expect(d).toBeLessThanOrEqual(maxMs);
          // the lowest possible wait of the next attempt is never below this attempt's
          expect(backoffDelay(attempt + 1, { baseMs, maxMs }, () => 0)).toBeGreaterThanOrEqual(
            backoffDelay(attempt, { baseMs, maxMs }, () => 0),
          );
        },
      ),
    );
  });

  it('starts at 200 ms and grows to about 5 s with jitter with the defaults', () => {
    const defaults = { baseMs: 200, maxMs: 5000 };
    expect(backoffDelay(1, defaults, () => 0)).toBe(200);
    expect(backoffDelay(1, defaults, () => 0.999_999)).toBe(400);
    expect(backoffDelay(3, defaults, () => 0)).toBe(800);
    expect(backoffDelay(20, defaults, () => 0)).toBe(2500);
    expect(backoffDelay(20, defaults, () => 0.999_999)).toBe(5000);
    const late = new Set(Array.from({ length: 50 }, () => backoffDelay(20, defaults)));
    expect(late.size).toBeGreaterThan(1);
  });
});
