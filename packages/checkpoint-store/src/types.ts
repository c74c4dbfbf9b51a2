import type { Logger } from '@connect-wfm/core';
import type { MemoryCheckpointTable } from './memory-store.js';

/**
 * Public types of @connect-wfm/checkpoint-store.
 *
 * A store is scoped to one (application name, stream) pair and keeps, per shard, the last
 * sequence number the application has processed and delivered, and whether the shard has
 * been read to its end (the SHARD_END marker).
 */

/** What is stored for one shard. */
export interface Checkpoint {
  /** The last processed sequence number (a decimal string, compared as bigint), or null when none yet. */
  readonly sequenceNumber: string | null;
  /** True once the shard was read to its end (closed after a split or merge, and drained). */
  readonly shardEnd: boolean;
  /** When this checkpoint was written. */
  readonly updatedAt: Date;
}

/** A write for one shard: a sequence number, the SHARD_END marker, or both. */
export interface CheckpointUpdate {
  /** The last processed sequence number. Must not be lower than the stored one. */
  readonly sequenceNumber?: string | undefined;
  /** Marks the shard as finished. @default false */
  readonly shardEnd?: boolean | undefined;
}

/**
 * What {@link CheckpointStore.getState} returns: the application state written by the last
 * `commit()`, with the checkpoints of every shard as they stood right after that same write.
 */
export interface CommittedState {
  /** The state given to `commit()`, parsed back from its JSON text (a fresh copy). */
  readonly state: unknown;
  /**
   * Every checkpoint of this (application, stream) as stored by that commit, by shard id. Later
   * `put()`/`putMany()` calls move `getAll()` on, not this map: resume from these positions to
   * replay exactly what came after the state.
   */
  readonly checkpoints: ReadonlyMap<string, Checkpoint>;
  /** When the commit was written (the backend's clock). */
  readonly writtenAt: Date;
}

/** A held leader lease. */
export interface Lease {
  /** Who holds it (host name, pod name, ...). */
  readonly owner: string;
  /** Fencing token: grows by one at every acquisition; writes carry it. */
  readonly token: number;
  /** When the lease expires unless renewed. */
  readonly expiresAt: Date;
}

/** Options of {@link CheckpointStore.acquireLease}. */
export interface AcquireLeaseOptions {
  /** Identity of the process taking the lease. */
  readonly owner: string;
  /** How long the lease lasts without renewal, in milliseconds. */
  readonly ttlMs: number;
}

/**
 * The one interface every backend implements (file, DynamoDB, PostgreSQL, memory).
 *
 * Writes never move a checkpoint backwards. While this store instance holds a lease, every
 * write is conditional on still holding it: once the lease is lost (expired and taken by
 * another owner), writes are refused with `LeaseLostError`.
 */
export interface CheckpointStore {
  /** Application name this store is scoped to. */
  readonly application: string;
  /** Stream name this store is scoped to. */
  readonly stream: string;
  /** The checkpoint of one shard, or undefined when there is none. */
  get(shardId: string): Promise<Checkpoint | undefined>;
  /** Every checkpoint of this (application, stream), by shard id. */
  getAll(): Promise<ReadonlyMap<string, Checkpoint>>;
  /** Writes one shard's checkpoint. */
  put(shardId: string, update: CheckpointUpdate): Promise<void>;
  /** Writes several shards' checkpoints (atomically where the backend allows). */
  putMany(updates: Iterable<readonly [string, CheckpointUpdate]>): Promise<void>;
  /**
   * Writes shard checkpoints AND an application state in ONE atomic write: after a crash at any
   * instant, `getState()` returns either the previous commit or this one, never a mix. The state
   * must be JSON-serializable (an object, array, string, number, boolean or null) and may be
   * large (tested with 32 MB on every backend). Fenced by the lease like `put()` (throws
   * `LeaseLostError` when deposed); an update that would move a checkpoint backwards refuses
   * the whole commit (`CheckpointRegressionError`). `updates` may be empty.
   */
  commit(updates: Iterable<readonly [string, CheckpointUpdate]>, state: unknown): Promise<void>;
  /** The state of the last `commit()` with its checkpoints, or undefined when none was made. */
  getState(): Promise<CommittedState | undefined>;
  /** Removes one shard's checkpoint (for example a shard gone past retention). */
  delete(shardId: string): Promise<void>;
  /** Takes the leader lease if it is free or expired; throws `LeaseHeldError` otherwise. */
  acquireLease(options: AcquireLeaseOptions): Promise<Lease>;
  /** Extends the lease this instance holds; throws `LeaseLostError` when it was lost. */
  renewLease(): Promise<Lease>;
  /**
   * Gives the lease up (no-op on the backend when not held or already lost). Afterwards this
   * instance refuses writes and `renewLease` with `LeaseLostError` until `acquireLease` succeeds.
   */
  releaseLease(): Promise<void>;
  /** Releases resources (connections, file handles). */
  close(): Promise<void>;
}

/** The logger type of every connect-wfm package (pino, Powertools Logger and `console` fit). */
export type { Logger };

/** @deprecated use {@link Logger} (the same type, from @connect-wfm/core) */
export type CheckpointStoreLogger = Logger;

/** Options every backend takes. */
export interface CheckpointStoreBaseOptions {
  /** Application name the store is scoped to (no `#`, 1–256 characters). */
  readonly application: string;
  /** Stream name or ARN the store is scoped to (1–2048 characters). */
  readonly stream: string;
  /** Where to write diagnostics. @default no logging */
  readonly logger?: Logger | undefined;
}

/** Options of `MemoryCheckpointStore`. */
export interface MemoryCheckpointStoreOptions extends CheckpointStoreBaseOptions {
  /**
   * The in-memory table holding the data. Give the same table to several stores to make them
   * behave like processes sharing one backend (leases, fencing, concurrent writers).
   * @default a new table private to this store
   */
  readonly table?: MemoryCheckpointTable | undefined;
  /** Clock used for lease expiry, in epoch milliseconds. @default Date.now */
  readonly clock?: (() => number) | undefined;
}

/** Options of `FileCheckpointStore`. */
export interface FileCheckpointStoreOptions extends CheckpointStoreBaseOptions {
  /**
   * Path of the JSON file. One file may hold several (application, stream) scopes; its
   * directory must exist. The lock file `<path>.lock` and temporary files `<path>.<pid>.*.tmp`
   * are created beside it.
   */
  readonly path: string;
  /** How long to wait for the lock file before failing with `LockTimeoutError`. @default 10000 */
  readonly lockTimeoutMs?: number | undefined;
  /**
   * A lock file that one live process keeps this long while this store waits for it is taken
   * over as hung (a stopped or frozen owner), so a standby is not blocked forever. The owner's
   * write in flight is then discarded with `LockLostError`. Keep it well above the time one
   * write takes. @default 5000
   */
  readonly lockHungMs?: number | undefined;
  /**
   * Call fsync on the file and its directory at every write. Turn off only for tests.
   * @default true
   */
  readonly fsync?: boolean | undefined;
  /** Clock used for lease expiry, in epoch milliseconds. @default Date.now */
  readonly clock?: (() => number) | undefined;
}
