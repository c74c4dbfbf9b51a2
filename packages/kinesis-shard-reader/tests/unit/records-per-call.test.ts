import fc from 'fast-check';
import { recordsPerCall } from '../../src/shard-loop.js';

describe('recordsPerCall', () => {
  it('asks for maxRecords when no budget is set, whatever the number of shards', () => {
    expect(recordsPerCall({ maxRecords: 1000, maxRecordsInFlight: undefined }, 1)).toBe(1000);
    expect(recordsPerCall({ maxRecords: 1000, maxRecordsInFlight: undefined }, 500)).toBe(1000);
  });

  it('gives each running shard loop its share of the budget, capped at maxRecords', () => {
    const o = { maxRecords: 1000, maxRecordsInFlight: 10_000 };
    expect(recordsPerCall(o, 2)).toBe(1000);
    expect(recordsPerCall(o, 10)).toBe(1000);
    expect(recordsPerCall(o, 20)).toBe(500);
    expect(recordsPerCall(o, 21)).toBe(476);
    expect(recordsPerCall(o, 0)).toBe(1000);
  });

  it('never asks for fewer than 1 record, even with more shards than the budget', () => {
    expect(recordsPerCall({ maxRecords: 1000, maxRecordsInFlight: 5 }, 8)).toBe(1);
  });

  it('keeps shards × share within the budget whenever the share is at least 1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 5_000 }),
        (maxRecords, budget, loops) => {
          const share = recordsPerCall({ maxRecords, maxRecordsInFlight: budget }, loops);
          expect(share).toBeGreaterThanOrEqual(1);
          expect(share).toBeLessThanOrEqual(maxRecords);
          if (budget >= loops) expect(share * loops).toBeLessThanOrEqual(budget);
          // Not smaller than needed: one more record each would exceed the budget or maxRecords.
          if (share < maxRecords && budget >= loops)
            expect((share + 1) * loops).toBeGreaterThan(budget);
        },
      ),
    );
  });
});
