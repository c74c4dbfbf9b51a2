/**
 * Errors of @connect-wfm/checkpoint-store. Every error is a {@link CheckpointStoreError} with a
 * string-literal `code`, so callers can branch on `err.code` or on `instanceof`.
 */

import { type ConfigProblem, ConnectWfmError, stripAwsResponse } from '@connect-wfm/core';

/** Every code a {@link CheckpointStoreError} can carry. */
export type CheckpointStoreErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'CHECKPOINT_REGRESSION'
  | 'LEASE_HELD'
  | 'LEASE_LOST'
  | 'STORE_CORRUPT'
  | 'LOCK_TIMEOUT'
  | 'LOCK_LOST'
  | 'CONFLICT'
  | 'BACKEND_FAILURE'
  | 'DRIVER_MISSING'
  | 'STORE_CLOSED';

/**
 * Base class of every error thrown by this package.
 *
 * @example
 * try {
 *   await store.put('shardId-000000000000', { sequenceNumber: '42' });
 * } catch (err) {
 *   if (err instanceof CheckpointStoreError && err.code === 'LEASE_LOST') process.exit(75);
 *   throw err;
 * }
 */
export class CheckpointStoreError extends ConnectWfmError<CheckpointStoreErrorCode> {
  constructor(
    code: CheckpointStoreErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    // The cause is kept without the SDK's hidden $response and request data (credentials).
    super(code, message, {
      ...(options?.cause === undefined ? {} : { cause: stripAwsResponse(options.cause) }),
      retryable: options?.retryable ?? false,
    });
    this.name = 'CheckpointStoreError';
  }
}

/**
 * An argument is malformed: a shard id, a sequence number that is not a decimal string of at
 * most 129 digits, an update that carries neither a sequence number nor `shardEnd: true`, a TTL
 * that is not a positive integer.
 *
 * @example
 * await store.put('shardId-000000000000', { sequenceNumber: '12e3' }); // throws InvalidArgumentError
 */
export class InvalidArgumentError extends CheckpointStoreError {
  override readonly code = 'INVALID_ARGUMENT' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
    this.name = 'InvalidArgumentError';
  }
}

/** One problem found in a store configuration. @deprecated use `ConfigProblem` of @connect-wfm/core */
export type ConfigIssue = ConfigProblem;

/**
 * The configuration given to `createCheckpointStore` is invalid. `issues` lists every problem
 * at once (unknown keys included), not only the first.
 *
 * @example
 * try { createCheckpointStore(config); } catch (err) {
 *   if (err instanceof InvalidConfigError) for (const i of err.issues) log(i.path, i.message);
 * }
 */
export class InvalidConfigError extends CheckpointStoreError {
  override readonly code = 'INVALID_CONFIG' as const;
  /** Every problem found (`path` dotted, `''` for the whole object). */
  readonly problems: readonly ConfigProblem[];
  /** @deprecated the same list as `problems` */
  readonly issues: readonly ConfigProblem[];

  constructor(issues: readonly ConfigProblem[]) {
    const list = issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`);
    super(
      'INVALID_CONFIG',
      `invalid checkpoint store configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${list.join('; ')}. Fix these keys and try again.`,
    );
    this.name = 'InvalidConfigError';
    this.problems = issues;
    this.issues = issues;
  }
}

/**
 * A write would move a checkpoint backwards: its sequence number is lower (as a bigint) than the
 * stored one. This always means a caller bug (out-of-order checkpointing, or two readers on the
 * same shard without a lease), so it is refused loudly instead of being ignored. Writing the
 * same sequence number again is allowed.
 *
 * @example
 * await store.put('shardId-000000000000', { sequenceNumber: '200' });
 * await store.put('shardId-000000000000', { sequenceNumber: '100' }); // throws CheckpointRegressionError
 */
export class CheckpointRegressionError extends CheckpointStoreError {
  override readonly code = 'CHECKPOINT_REGRESSION' as const;
  /** The shard whose checkpoint would have regressed. */
  readonly shardId: string;
  /** The sequence number already stored. */
  readonly storedSequenceNumber: string;
  /** The lower sequence number that was refused. */
  readonly attemptedSequenceNumber: string;

  constructor(scope: string, shardId: string, stored: string, attempted: string) {
    super(
      'CHECKPOINT_REGRESSION',
      `refused to move the checkpoint of ${scope} shard ${shardId} backwards from ${stored} to ${attempted}; checkpoints only move forward. Checkpoint batches in order, and run one reader per shard (use the leader lease).`,
    );
    this.name = 'CheckpointRegressionError';
    this.shardId = shardId;
    this.storedSequenceNumber = stored;
    this.attemptedSequenceNumber = attempted;
  }
}

/**
 * `acquireLease` found the lease held, unexpired, by another owner.
 *
 * @example
 * try { await store.acquireLease({ owner: 'pod-a', ttlMs: 10_000 }); }
 * catch (err) { if (err instanceof LeaseHeldError) await sleep(err.expiresAt.getTime() - Date.now()); }
 */
export class LeaseHeldError extends CheckpointStoreError {
  override readonly code = 'LEASE_HELD' as const;
  /** Who holds the lease. */
  readonly owner: string;
  /** When the holder's lease expires unless renewed. */
  readonly expiresAt: Date;

  constructor(scope: string, wanted: string, owner: string, expiresAt: Date) {
    super(
      'LEASE_HELD',
      `cannot take the leader lease of ${scope} for ${wanted}: it is held by ${owner} until ${expiresAt.toISOString()}. Retry after it expires, or stop the other owner.`,
    );
    this.name = 'LeaseHeldError';
    this.owner = owner;
    this.expiresAt = expiresAt;
  }
}

/**
 * This store instance's lease was lost (it expired and another owner took it, or it never held
 * one when renewing). Every write by the old owner is refused by the backend itself; the process
 * must stop reading and checkpointing, and may call `acquireLease` again.
 *
 * @example
 * try { await store.renewLease(); } catch (err) { if (err instanceof LeaseLostError) await reader.stop(); }
 */
export class LeaseLostError extends CheckpointStoreError {
  override readonly code = 'LEASE_LOST' as const;
  /** The owner this instance acted as. */
  readonly owner: string | undefined;
  /** The fencing token this instance held. */
  readonly token: number | undefined;

  constructor(message: string, owner?: string, token?: number) {
    super('LEASE_LOST', message);
    this.name = 'LeaseLostError';
    this.owner = owner;
    this.token = token;
  }
}

/**
 * The stored data cannot be read back (a checkpoint file that is not valid JSON of the expected
 * shape, or a DynamoDB item of another layout). Nothing is overwritten.
 *
 * @example
 * // thrown by get/getAll/put when /var/lib/rta/checkpoints.json was edited by hand into garbage
 */
export class StoreCorruptError extends CheckpointStoreError {
  override readonly code = 'STORE_CORRUPT' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_CORRUPT', message, options);
    this.name = 'StoreCorruptError';
  }
}

/**
 * The file backend could not take its lock file within `lockTimeoutMs` (other live processes
 * kept holding it; one holder that keeps it for `lockHungMs` is taken over instead).
 *
 * @example
 * // new FileCheckpointStore({ ..., lockTimeoutMs: 1000 }) while another process hangs holding the lock
 */
export class LockTimeoutError extends CheckpointStoreError {
  override readonly code = 'LOCK_TIMEOUT' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCK_TIMEOUT', message, { ...options, retryable: true });
    this.name = 'LockTimeoutError';
  }
}

/**
 * The file backend's lock was taken over by another process while this one held it (it held
 * it longer than `lockHungMs`, as a stopped or frozen process would), so the write in flight
 * was discarded rather than put over the other process's. Nothing was written; retry.
 *
 * @example
 * // a leader resumed after SIGSTOP finds its renewal refused: it retries and learns it lost the lease
 */
export class LockLostError extends CheckpointStoreError {
  override readonly code = 'LOCK_LOST' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCK_LOST', message, { ...options, retryable: true });
    this.name = 'LockLostError';
  }
}

/**
 * An optimistic write lost the race too many times in a row (very heavy contention on one
 * (application, stream) in the DynamoDB backend).
 *
 * @example
 * // retry later, or reduce the number of concurrent writers
 */
export class ConflictError extends CheckpointStoreError {
  override readonly code = 'CONFLICT' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFLICT', message, { ...options, retryable: true });
    this.name = 'ConflictError';
  }
}

/**
 * The backend failed (file system, DynamoDB or PostgreSQL error); `cause` holds the original.
 *
 * @example
 * // err.cause is the AWS SDK or pg error
 */
export class BackendError extends CheckpointStoreError {
  override readonly code = 'BACKEND_FAILURE' as const;

  /** `retryable` defaults to true (I/O and network failures); false for a setup problem. */
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('BACKEND_FAILURE', message, { ...options, retryable: options?.retryable ?? true });
    this.name = 'BackendError';
  }
}

/**
 * The store was used after `close()`.
 *
 * @example
 * await store.close();
 * await store.get('shardId-000000000000'); // throws StoreClosedError
 */
export class StoreClosedError extends CheckpointStoreError {
  override readonly code = 'STORE_CLOSED' as const;

  constructor(scope: string) {
    super('STORE_CLOSED', `the checkpoint store of ${scope} is closed; create a new one.`);
    this.name = 'StoreClosedError';
  }
}

/**
 * The backend's database driver, an optional peer dependency, is not installed:
 * `@aws-sdk/client-dynamodb` for DynamoDB, `pg` for PostgreSQL. Install it next to this package.
 *
 * @example
 * // npm install @aws-sdk/client-dynamodb   (then use the DynamoDB backend)
 */
export class DriverMissingError extends CheckpointStoreError {
  override readonly code = 'DRIVER_MISSING' as const;
  /** The package to install. */
  readonly packageName: string;

  constructor(backend: string, packageName: string, cause?: unknown) {
    super(
      'DRIVER_MISSING',
      `the ${backend} checkpoint store needs the package ${packageName}, an optional peer dependency of @connect-wfm/checkpoint-store that is not installed: run npm install ${packageName}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = 'DriverMissingError';
    this.packageName = packageName;
  }
}
