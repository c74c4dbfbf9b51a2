import { describe, expect, it } from '@jest/globals';
import {
  compareSequenceNumbers,
  isSequenceNumber,
  MAX_STATE_CODE_LENGTH,
  SHARD_ID_PATTERN,
} from '../../src/index.js';

describe('sequence numbers', () => {
  it('compares numerically beyond 2^53 and by value, not by text', () => {
    const big = `4959033827149025660855969253836157109592157598913658889${'9'.repeat(60)}`;
    expect(compareSequenceNumbers('9', '10')).toBe(-1);
    expect(compareSequenceNumbers(`${big}1`, `${big}0`)).toBe(1);
    expect(compareSequenceNumbers(big, big)).toBe(0);
  });

  it('accepts up to 129 digits without leading zeros', () => {
    expect(isSequenceNumber('1'.repeat(129))).toBe(true);
    expect(isSequenceNumber('1'.repeat(130))).toBe(false);
    expect(isSequenceNumber('012')).toBe(false);
    expect(isSequenceNumber(12)).toBe(false);
  });

  it('defines the Teleopti state code limit and the shard id pattern once', () => {
    expect(MAX_STATE_CODE_LENGTH).toBe(300);
    expect(SHARD_ID_PATTERN.test('shardId-000000000001')).toBe(true);
    expect(SHARD_ID_PATTERN.test('../etc')).toBe(false);
  });
});
