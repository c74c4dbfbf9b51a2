/**
 * @connect-wfm/s3-cse-reader: streams S3 objects written by the S3 Encryption Client (v2 and v1)
 * as plaintext, with the GCM tag checked before the stream ends.
 */
export { createDecryptStream, decryptDataKey, openS3Object } from './decrypt.js';
export { hasInstructionFile, isEncrypted, parseEnvelope } from './envelope.js';
export { CseError, type CseErrorCode } from './errors.js';
export type * from './types.js';
