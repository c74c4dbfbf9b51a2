/** Error checks that also work across realms (Node internals seen from a VM context, e.g. Jest). */
import { types } from 'node:util';

/**
 * True for any Error, whichever realm created it.
 *
 * @example
 * isError(new TypeError('x')); // true
 */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}
