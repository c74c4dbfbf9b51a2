import {
  type ConfigProblem,
  ConnectWfmError,
  type ConnectWfmErrorOptions,
  formatConfigProblems,
} from '@connect-wfm/core';

/** Machine-readable reasons of a {@link HistoricalFeedError}. */
export type HistoricalFeedErrorCode =
  /** An SQS message that is none of the supported shapes: goes to the DLQ path. */
  | 'UNRECOGNIZED_MESSAGE'
  /** An object that is neither a CTR object nor a report (by prefix and content). */
  | 'UNKNOWN_OBJECT'
  /** Reading or decrypting the object failed. */
  | 'READ_FAILED'
  /** The upload to the SFTP server failed. */
  | 'DELIVERY_FAILED'
  /** Reading or writing the object's tags failed. */
  | 'TAGGING_FAILED'
  /** Writing the bad bytes to the quarantine prefix failed. */
  | 'QUARANTINE_FAILED'
  /** The agent performance report could not be mapped. */
  | 'MAPPING_FAILED'
  /** Invalid options given to the feed. */
  | 'INVALID_OPTIONS';

/**
 * The error of @connect-wfm/historical-feed: `code`, `retryable` (whether a later attempt may
 * succeed) and, where it applies, the S3 object it is about.
 *
 * @example
 * if (err instanceof HistoricalFeedError && !err.retryable) logger.error('will reach the DLQ', { code: err.code });
 */
export class HistoricalFeedError extends ConnectWfmError<HistoricalFeedErrorCode> {
  /** `s3://bucket/key`, when the error is about one object. */
  readonly objectName: string | undefined;

  constructor(
    code: HistoricalFeedErrorCode,
    message: string,
    options: ConnectWfmErrorOptions & { objectName?: string | undefined } = {},
  ) {
    super(code, message, options);
    this.objectName = options.objectName;
  }
}

/**
 * Invalid options given to {@link HistoricalFeed}: every problem at once, in core's shape.
 *
 * @example
 * try { new HistoricalFeed({ ...options, reportMode: 'zip' as never }) } catch (e) {
 *   if (e instanceof HistoricalFeedOptionsError) console.error(e.problems);
 * }
 */
export class HistoricalFeedOptionsError extends HistoricalFeedError {
  /** Every problem found (`path` is the option name). */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super('INVALID_OPTIONS', `invalid historical feed options: ${formatConfigProblems(problems)}`);
    this.problems = problems;
  }
}
