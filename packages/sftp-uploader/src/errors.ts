import { type ConfigProblem, ConnectWfmError } from '@connect-wfm/core';

/** Every error code {@link SftpUploadError} can carry. */
export type SftpErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_FILE_NAME'
  | 'INVALID_BODY'
  | 'INVALID_PRIVATE_KEY'
  | 'HOST_KEY_MISMATCH'
  | 'AUTHENTICATION_FAILED'
  | 'CONNECTION_FAILED'
  | 'TIMEOUT'
  | 'PERMISSION_DENIED'
  | 'DIRECTORY_UNAVAILABLE'
  | 'REMOTE_FAILURE'
  | 'NOT_RESUMABLE'
  | 'BODY_FAILED'
  | 'UPLOADER_CLOSED';

/** Fields every {@link SftpUploadError} carries besides its message. */
export interface SftpErrorDetails {
  /** The file name being uploaded, when the error concerns one. */
  file?: string | undefined;
  /** `host:port` of the server. */
  server?: string | undefined;
  /** Attempts made before giving up. */
  attempts?: number | undefined;
  /** The underlying error (never holding a secret). */
  cause?: unknown;
}

/**
 * Base class of every error thrown by `@connect-wfm/sftp-uploader`, a `ConnectWfmError` of
 * `@connect-wfm/core`. `code` tells what failed; `retryable` tells whether it was a transient
 * fault (the uploader already retried it `attempts` times) or a permanent one. Messages name the
 * file and the cause and never contain a password, key or passphrase.
 *
 * @example
 * try {
 *   await uploader.put('a.csv', body);
 * } catch (err) {
 *   if (err instanceof SftpUploadError && err.code === 'HOST_KEY_MISMATCH') alertSecurity(err);
 *   throw err;
 * }
 */
export class SftpUploadError extends ConnectWfmError<SftpErrorCode> {
  override readonly name: string = 'SftpUploadError';
  /** The file name, when the error concerns one. */
  readonly file: string | undefined;
  /** `host:port` of the server. */
  readonly server: string | undefined;
  /** Attempts made for this file. */
  readonly attempts: number;

  constructor(
    code: SftpErrorCode,
    message: string,
    retryable: boolean,
    details: SftpErrorDetails = {},
  ) {
    super(code, message, { cause: details.cause, retryable });
    this.file = details.file;
    this.server = details.server;
    this.attempts = details.attempts ?? 0;
  }
}

/**
 * Invalid uploader options, file name or body (`INVALID_OPTIONS`, `INVALID_FILE_NAME`,
 * `INVALID_BODY`, `INVALID_PRIVATE_KEY`); thrown before anything is sent.
 *
 * @example
 * try {
 *   new SftpUploader({ host: 'h', username: 'u' }); // neither password nor privateKey
 * } catch (err) {
 *   if (err instanceof SftpConfigError) console.error(err.code, err.problems); // INVALID_OPTIONS
 * }
 */
export class SftpConfigError extends SftpUploadError {
  override readonly name = 'SftpConfigError';
  /**
   * Every problem found, each with the path of the option it concerns (`retry.maxAttempts`;
   * `name`, `body` or `privateKey` for a refused file name, body or key).
   */
  readonly problems: readonly ConfigProblem[];
  constructor(
    code: 'INVALID_OPTIONS' | 'INVALID_FILE_NAME' | 'INVALID_BODY' | 'INVALID_PRIVATE_KEY',
    message: string,
    details: SftpErrorDetails & { problems?: readonly ConfigProblem[] } = {},
  ) {
    super(code, message, false, details);
    this.problems = details.problems ?? [{ path: '', message }];
  }
}

/**
 * The server presented a host key whose fingerprint differs from `hostKeySha256` (`HOST_KEY_MISMATCH`).
 *
 * @example
 * catch (err) {
 *   if (err instanceof SftpHostKeyError) alert(`expected ${err.expected}, got ${err.presented}`);
 * }
 */
export class SftpHostKeyError extends SftpUploadError {
  override readonly name = 'SftpHostKeyError';
  /** Fingerprint the uploader expected. */
  readonly expected: string;
  /** Fingerprint the server presented. */
  readonly presented: string;
  constructor(
    message: string,
    fingerprints: { expected: string; presented: string },
    details: SftpErrorDetails = {},
  ) {
    super('HOST_KEY_MISMATCH', message, false, details);
    this.expected = fingerprints.expected;
    this.presented = fingerprints.presented;
  }
}

/**
 * The server refused the credentials (`AUTHENTICATION_FAILED`).
 *
 * @example
 * catch (err) {
 *   if (err instanceof SftpAuthError) rotateCredentialsAlarm(err.server);
 * }
 */
export class SftpAuthError extends SftpUploadError {
  override readonly name = 'SftpAuthError';
  constructor(message: string, details: SftpErrorDetails = {}) {
    super('AUTHENTICATION_FAILED', message, false, details);
  }
}

/**
 * The connection failed, dropped or stalled (`CONNECTION_FAILED`, `TIMEOUT`). Usually transient
 * (retried before surfacing); a failed SSH handshake (no common algorithm) is not.
 *
 * @example
 * catch (err) {
 *   // retries were exhausted: leave the message on the queue for a later run
 *   if (err instanceof SftpConnectionError && err.retryable) return retryLater();
 * }
 */
export class SftpConnectionError extends SftpUploadError {
  override readonly name = 'SftpConnectionError';
  constructor(
    code: 'CONNECTION_FAILED' | 'TIMEOUT',
    message: string,
    details: SftpErrorDetails & { retryable?: boolean } = {},
  ) {
    super(code, message, details.retryable ?? true, details);
  }
}

/**
 * The server refused an SFTP operation (`PERMISSION_DENIED`, `DIRECTORY_UNAVAILABLE`, `REMOTE_FAILURE`, `NOT_RESUMABLE`).
 *
 * @example
 * catch (err) {
 *   if (err instanceof SftpRemoteError && err.code === 'PERMISSION_DENIED') escalate(err.message);
 * }
 */
export class SftpRemoteError extends SftpUploadError {
  override readonly name = 'SftpRemoteError';
  /** The SFTP status code the server answered, when there was one. */
  readonly statusCode: number | undefined;
  constructor(
    code: 'PERMISSION_DENIED' | 'DIRECTORY_UNAVAILABLE' | 'REMOTE_FAILURE' | 'NOT_RESUMABLE',
    message: string,
    details: SftpErrorDetails & { statusCode?: number | undefined } = {},
  ) {
    super(code, message, false, details);
    this.statusCode = details.statusCode;
  }
}

/**
 * Reading the body (a stream or iterable) failed (`BODY_FAILED`); nothing was published.
 *
 * @example
 * catch (err) {
 *   if (err instanceof SftpBodyError) console.error('source failed', err.cause);
 * }
 */
export class SftpBodyError extends SftpUploadError {
  override readonly name = 'SftpBodyError';
  constructor(message: string, details: SftpErrorDetails = {}) {
    super('BODY_FAILED', message, false, details);
  }
}

/**
 * The uploader was closed (`UPLOADER_CLOSED`).
 *
 * @example
 * await uploader.close();
 * await uploader.put('late.csv', 'x'); // rejects with SftpClosedError (UPLOADER_CLOSED)
 */
export class SftpClosedError extends SftpUploadError {
  override readonly name = 'SftpClosedError';
  constructor(message: string, details: SftpErrorDetails = {}) {
    super('UPLOADER_CLOSED', message, false, details);
  }
}
