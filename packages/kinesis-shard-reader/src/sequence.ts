/**
 * Kinesis sequence numbers are decimal strings of up to 129 digits, always compared as bigint:
 * the rule and the comparison are @connect-wfm/core's (one definition for every package),
 * re-exported here for existing imports.
 */
export { compareSequenceNumbers, isSequenceNumber } from '@connect-wfm/core';
