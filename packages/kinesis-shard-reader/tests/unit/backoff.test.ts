import fc from 'fast-check';
import { backoffDelay } from '../../src/backoff.js';

describe('backoffDelay', () => {
  it('stays between half and all of the capped exponential delay (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (attempt, baseMs, extra, r) => {
          const maxMs = baseMs + extra;
          const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
          const d = backoffDelay(attempt, { baseMs, maxMs }, () => r);
          expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(d).toBeLessThanOrEqual(Math.ceil(ceiling));
        },
      ),
    );
  });

  it('grows from 200 ms towards 5 s with the defaults', () => {
    const mid = () => 0.5;
    expect(backoffDelay(1, { baseMs: 200, maxMs: 5000 }, mid)).toBe(150);
    expect(backoffDelay(3, { baseMs: 200, maxMs: 5000 }, mid)).toBe(600);
    expect(backoffDelay(20, { baseMs: 200, maxMs: 5000 }, mid)).toBe(3750);
  });
});
