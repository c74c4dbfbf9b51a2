import { compareSequenceNumbers, isSequenceNumber } from '@connect-wfm/kinesis-shard-reader';
import fc from 'fast-check';

const digits = fc.stringMatching(/^[1-9]\d{0,128}$/);

describe('sequence numbers', () => {
  it('compares as bigint, not as strings or doubles', () => {
    expect(compareSequenceNumbers('9', '10')).toBeLessThan(0);
    const big = '49590338271490256608559692538361571095921575989136588898';
    const next = '49590338271490256608559692538361571095921575989136588899';
    expect(Number(big)).toBe(Number(next));
    expect(compareSequenceNumbers(big, next)).toBeLessThan(0);
    expect(compareSequenceNumbers(next, big)).toBeGreaterThan(0);
    expect(compareSequenceNumbers(big, big)).toBe(0);
  });

  it('agrees with bigint ordering for any pair of up to 129 digits (property)', () => {
    fc.assert(
      fc.property(digits, digits, (a, b) => {
        const expected = BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
        expect(compareSequenceNumbers(a, b)).toBe(expected);
      }),
    );
  });

  it('refuses leading zeros, as the checkpoint store does', () => {
    expect(isSequenceNumber('0')).toBe(true);
    for (const bad of ['007', '00', '0123456789']) expect(isSequenceNumber(bad)).toBe(false);
  });

  it('accepts 1 to 129 decimal digits only', () => {
    expect(isSequenceNumber('1'.repeat(129))).toBe(true);
    expect(isSequenceNumber('1'.repeat(130))).toBe(false);
    for (const bad of ['', '1e5', '-1', ' 1', '0x10', 12, null]) {
      expect(isSequenceNumber(bad)).toBe(false);
    }
  });
});
