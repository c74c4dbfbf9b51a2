/**
 * Constants and small helpers that more than one package needs, defined once.
 */

/**
 * A Kinesis sequence number: a decimal string of up to 129 digits, without leading zeros. Compare
 * them with {@link compareSequenceNumbers}, never as `number` (they exceed 2^53).
 */
export const SEQUENCE_NUMBER_PATTERN = /^(0|[1-9][0-9]{0,128})$/;

/** A Kinesis shard id as the API accepts it (`shardId-000000000001`). */
export const SHARD_ID_PATTERN = /^[a-zA-Z0-9_.-]{1,128}$/;

/** The longest state code (and state description) Teleopti's RTA service accepts, in characters. */
export const MAX_STATE_CODE_LENGTH = 300;

/**
 * True when `value` is a well-formed sequence number.
 *
 * @example
 * isSequenceNumber('49590338271490256608559692538361571095921575989136588898'); // true
 */
export function isSequenceNumber(value: unknown): value is string {
  return typeof value === 'string' && SEQUENCE_NUMBER_PATTERN.test(value);
}

/**
 * Orders two sequence numbers numerically (as `bigint`): -1, 0 or 1.
 *
 * @example
 * compareSequenceNumbers('9', '10'); // -1
 */
export function compareSequenceNumbers(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
