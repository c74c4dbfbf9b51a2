/**
 * Errors of @connect-wfm/kinesis-shard-reader. Every error is a {@link KinesisShardReaderError}
 * with a string-literal `code`; the AWS SDK or checkpoint-store error that caused it is `cause`.
 */

import {
  type ConfigProblem,
  ConnectWfmError,
  isConnectWfmError,
  stripAwsResponse,
} from '@connect-wfm/core';

/** Every code a {@link KinesisShardReaderError} can carry. */
export type KinesisShardReaderErrorCode =
  | 'INVALID_OPTIONS'
  | 'STREAM_NOT_FOUND'
  | 'CHECKPOINT_EXPIRED'
  | 'READ_FAILED'
  | 'CHECKPOINT_FAILED'
  | 'INVALID_STATE';

/**
 * Base class of every error of this package.
 *
 * @example
 * try {
 *   for await (const batch of reader) await handle(batch);
 * } catch (err) {
 *   if (err instanceof KinesisShardReaderError && err.code === 'STREAM_NOT_FOUND') process.exit(78);
 *   throw err;
 * }
 */
export class KinesisShardReaderError extends ConnectWfmError<KinesisShardReaderErrorCode> {
  constructor(
    code: KinesisShardReaderErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    // The cause is kept without the SDK's hidden $response and request data (credentials).
    super(code, message, {
      ...(options?.cause === undefined ? {} : { cause: stripAwsResponse(options.cause) }),
      retryable: options?.retryable ?? false,
    });
    this.name = 'KinesisShardReaderError';
  }
}

/** One problem found in the options. @deprecated use `ConfigProblem` of @connect-wfm/core */
export type OptionIssue = ConfigProblem;

/**
 * The options given to the constructor are invalid; `issues` lists every problem at once,
 * unknown keys included. Also thrown (from the first read) when a stream ARN names another
 * region than the client's.
 *
 * @example
 * try { new KinesisShardReader({ ...options, maxRecords: 20_000 }); }
 * catch (err) { if (err instanceof InvalidOptionsError) console.error(err.issues); }
 */
export class InvalidOptionsError extends KinesisShardReaderError {
  override readonly code = 'INVALID_OPTIONS' as const;
  /** Every problem found (`path` dotted, `''` for the whole object). */
  readonly problems: readonly ConfigProblem[];
  /** @deprecated the same list as `problems` */
  readonly issues: readonly ConfigProblem[];

  constructor(issues: readonly ConfigProblem[]) {
    const list = issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`);
    super(
      'INVALID_OPTIONS',
      `invalid KinesisShardReader options (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${list.join('; ')}. Fix these options and construct the reader again.`,
    );
    this.name = 'InvalidOptionsError';
    this.problems = issues;
    this.issues = issues;
  }
}

/**
 * The stream does not exist (or the credentials may not see it).
 *
 * @example
 * // thrown by the first `next()` when `stream: 'agent-evnts'` is misspelt
 */
export class StreamNotFoundError extends KinesisShardReaderError {
  override readonly code = 'STREAM_NOT_FOUND' as const;
  /** The stream name or ARN as configured. */
  readonly stream: string;

  constructor(stream: string, options?: { cause?: unknown }) {
    super(
      'STREAM_NOT_FOUND',
      `Kinesis stream ${stream} was not found: check the stream name or ARN, the client's region and account, and that the credentials allow kinesis:DescribeStreamSummary.`,
      options,
    );
    this.name = 'StreamNotFoundError';
    this.stream = stream;
  }
}

/**
 * A stored checkpoint can no longer be resumed from: Kinesis rejected its sequence number
 * (the record is past the retention period), or the shard itself has expired before it was read
 * to its end. Records between the checkpoint and the oldest retained record are lost. The reader
 * does not throw it: it emits it in the `checkpointExpired` event, logs it at error level, and
 * restarts that shard from `TRIM_HORIZON` (never `LATEST`).
 *
 * @example
 * reader.on('checkpointExpired', ({ error }) => alert(error.message));
 */
export class CheckpointExpiredError extends KinesisShardReaderError {
  override readonly code = 'CHECKPOINT_EXPIRED' as const;
  /** The shard whose checkpoint is unusable. */
  readonly shardId: string;
  /** The stored sequence number. */
  readonly sequenceNumber: string;

  constructor(
    stream: string,
    shardId: string,
    sequenceNumber: string,
    reason: 'sequence-rejected' | 'shard-expired',
    options?: { cause?: unknown },
  ) {
    const what =
      reason === 'sequence-rejected'
        ? `Kinesis rejected checkpoint ${sequenceNumber} of shard ${shardId} in stream ${stream} (older than the stream's retention period); reading that shard again from TRIM_HORIZON`
        : `shard ${shardId} of stream ${stream} expired (past retention) before it was read to its end after checkpoint ${sequenceNumber}`;
    super(
      'CHECKPOINT_EXPIRED',
      `${what}. Records after the checkpoint that are no longer retained are LOST: replay them from another source if they matter, and keep the reader running (or raise the stream's retention period).`,
      options,
    );
    this.name = 'CheckpointExpiredError';
    this.shardId = shardId;
    this.sequenceNumber = sequenceNumber;
  }
}

/**
 * Reading failed for a reason retrying cannot fix (access denied, stream deleted, KMS key
 * disabled, ...). The iterator throws it (and `run()` rejects with it); the reader stops.
 *
 * @example
 * // err.operation === 'GetRecords', err.shardId === 'shardId-000000000003', err.cause is the SDK error
 */
export class ReadFailedError extends KinesisShardReaderError {
  override readonly code = 'READ_FAILED' as const;
  /** The Kinesis operation that failed. */
  readonly operation: string;
  /** The shard, when the operation was for one. */
  readonly shardId: string | undefined;

  constructor(
    stream: string,
    operation: string,
    shardId: string | undefined,
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause;
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      'READ_FAILED',
      `${operation} failed for ${shardId === undefined ? '' : `shard ${shardId} of `}stream ${stream} (${detail}). The reader stopped; checkpoints written so far are kept. Check the IAM permissions, the stream and its KMS key, then restart.`,
      options,
    );
    this.name = 'ReadFailedError';
    this.operation = operation;
    this.shardId = shardId;
  }
}

/**
 * Writing a checkpoint to the store failed (`cause` is the store's error, for example a
 * checkpoint-store `LeaseLostError`). Thrown by `checkpoint()`.
 *
 * @example
 * try { await batch.checkpoint(); } catch (err) { if (err instanceof CheckpointFailedError) await reader.stop(); }
 */
export class CheckpointFailedError extends KinesisShardReaderError {
  override readonly code = 'CHECKPOINT_FAILED' as const;
  /** The shard. */
  readonly shardId: string;
  /** The sequence number that could not be stored (null for a SHARD_END-only write). */
  readonly sequenceNumber: string | null;
  /**
   * Every shard of the failed write: one for a single checkpoint, several (or none, for a
   * state-only write) for `checkpoint(positions, { state })`.
   */
  readonly shardIds: readonly string[];

  constructor(
    shardId: string,
    sequenceNumber: string | null,
    options?: { cause?: unknown; shardIds?: readonly string[]; withState?: boolean },
  ) {
    const cause = options?.cause;
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    const shardIds = options?.shardIds ?? [shardId];
    const what =
      options?.withState === true
        ? `the checkpoints of shard${shardIds.length === 1 ? '' : 's'} ${shardIds.join(', ') || '(none)'} with the application state`
        : `the checkpoint ${sequenceNumber ?? 'SHARD_END'} of shard ${shardId}`;
    super(
      'CHECKPOINT_FAILED',
      `could not store ${what} (${detail}). The batch stays uncheckpointed and will be read again after a restart.`,
      {
        ...(cause === undefined ? {} : { cause }),
        // as retryable as the store's own error (a lost lease is not; a network failure is)
        retryable: isConnectWfmError(cause) && cause.retryable,
      },
    );
    this.name = 'CheckpointFailedError';
    this.shardId = shardId;
    this.sequenceNumber = sequenceNumber;
    this.shardIds = shardIds;
  }
}

/**
 * The reader was used in a way it does not support: iterated twice, checkpointing a shard it
 * does not know, or a malformed sequence number passed to `checkpoint()`.
 *
 * @example
 * for await (const b of reader) {} // then again:
 * for await (const b of reader) {} // throws ReaderStateError
 */
export class ReaderStateError extends KinesisShardReaderError {
  override readonly code = 'INVALID_STATE' as const;

  constructor(message: string) {
    super('INVALID_STATE', message);
    this.name = 'ReaderStateError';
  }
}
