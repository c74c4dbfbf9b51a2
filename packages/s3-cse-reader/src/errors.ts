import { ConnectWfmError } from '@connect-wfm/core';

/** Machine-readable reasons of a {@link CseError}. */
export type CseErrorCode =
  /** The envelope metadata is incomplete or inconsistent (missing IV, unknown algorithm...). */
  | 'INVALID_ENVELOPE'
  /** KMS refused to unwrap the data key (wrong key, wrong encryption context, no permission). */
  | 'KEY_UNWRAP_FAILED'
  /** KMS could not be reached or throttled: worth retrying. */
  | 'KMS_UNAVAILABLE'
  /** The GCM tag did not verify, or the CBC padding is wrong: tampered object or wrong key. */
  | 'AUTHENTICATION_FAILED'
  /** The ciphertext ended early (shorter than the tag, or not a whole number of blocks). */
  | 'TRUNCATED'
  /** Reading the object from S3 failed. */
  | 'READ_FAILED';

/**
 * The error every function of this package throws. `objectName` names the S3 object; the message
 * never contains key material.
 *
 * @example
 * try { await readEncryptedObject(...) } catch (e) {
 *   if (e instanceof CseError && e.code === 'AUTHENTICATION_FAILED') quarantine(e.objectName);
 * }
 */
export class CseError extends ConnectWfmError<CseErrorCode> {
  /** `s3://bucket/key` (or the name the caller gave). */
  readonly objectName: string;

  constructor(
    code: CseErrorCode,
    objectName: string,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(code, `${objectName}: ${message}`, options);
    this.objectName = objectName;
  }
}
