/**
 * Kinesis sequence numbers are decimal strings of up to 129 digits: always compared as bigint.
 */

/** The checkpoint store's rule: `0`, or 1 to 129 decimal digits without a leading zero. */
const SEQUENCE = /^(0|[1-9][0-9]{0,128})$/;

/**
 * True when `value` is a well-formed Kinesis sequence number: a decimal string of at most 129
 * digits without leading zeros, as Kinesis returns it (the same rule the checkpoint store applies).
 *
 * @example
 * isSequenceNumber('49590338271490256608559692538361571095921575989136588898'); // true
 * isSequenceNumber('1e5'); // false
 * isSequenceNumber('007'); // false
 */
export function isSequenceNumber(value: unknown): value is string {
  return typeof value === 'string' && SEQUENCE.test(value);
}

// The bigint comparison itself is the checkpoint store's (one implementation for both packages).
export { compareSequenceNumbers } from '@connect-wfm/checkpoint-store';
