/**
 * Kinesis sequence numbers are decimal strings of up to 129 digits: always compared as bigint.
 */

const SEQUENCE = /^\d{1,129}$/;

/**
 * True when `value` is a well-formed Kinesis sequence number (1 to 129 decimal digits).
 *
 * @example
 * isSequenceNumber('49590338271490256608559692538361571095921575989136588898'); // true
 * isSequenceNumber('1e5'); // false
 */
export function isSequenceNumber(value: unknown): value is string {
  return typeof value === 'string' && SEQUENCE.test(value);
}

// The bigint comparison itself is the checkpoint store's (one implementation for both packages).
export { compareSequenceNumbers } from '@connect-wfm/checkpoint-store';
