/** Options of {@link ConnectWfmError}. */
export interface ConnectWfmErrorOptions {
  /** The underlying error (already sanitized: it must not hold a secret). */
  readonly cause?: unknown;
  /**
   * True when the same operation may succeed if tried again later (a network error, a 5xx, a
   * throttle); false when only a change of input or configuration helps.
   * @default false
   */
  readonly retryable?: boolean;
}

/**
 * The base of every error a connect-wfm package throws. Each package derives its own base
 * (`CtrMapperError`, `SftpUploadError`, …) with a string-literal union of codes, so that a caller
 * can branch on `code` and on `retryable` whatever package threw.
 *
 * @example
 * class ThingError extends ConnectWfmError<'THING_MISSING' | 'THING_BUSY'> {}
 * throw new ThingError('THING_BUSY', 'thing "a" is busy; try again in a minute', { retryable: true });
 */
export class ConnectWfmError<C extends string = string> extends Error {
  /** A stable, machine-readable reason. */
  readonly code: C;
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;

  constructor(code: C, message: string, options: ConnectWfmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * True for any error derived from {@link ConnectWfmError} (also across two copies of this package
 * in one process, by shape).
 *
 * @example
 * if (isConnectWfmError(e) && e.retryable) scheduleRetry();
 */
export function isConnectWfmError(value: unknown): value is ConnectWfmError {
  if (value instanceof ConnectWfmError) return true;
  return (
    value instanceof Error &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { retryable?: unknown }).retryable === 'boolean'
  );
}
