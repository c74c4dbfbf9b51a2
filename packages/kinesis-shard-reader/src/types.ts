/**
 * Public types of @connect-wfm/kinesis-shard-reader.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { CheckpointStore } from '@connect-wfm/checkpoint-store';
import type { BackoffPolicy, Logger } from '@connect-wfm/core';
import type { CheckpointExpiredError } from './errors.js';

/** Where a shard that has no checkpoint starts. */
export type InitialPosition =
  /** The oldest retained record. */
  | { readonly type: 'TRIM_HORIZON' }
  /** Only records written after the reader started (closed shards without a checkpoint are skipped). */
  | { readonly type: 'LATEST' }
  /** The first record that arrived at or after `timestamp`. */
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date };

/** The logger type of every connect-wfm package (pino, Powertools Logger and `console` fit). */
export type { Logger };

/** @deprecated use {@link Logger} (the same type, from @connect-wfm/core) */
export type ReaderLogger = Logger;

/**
 * Backoff after throttling (and transient errors) of every Kinesis call: attempt n waits a random
 * time from d to 2·d, at most `maxMs`, with d = min(baseMs·2^(n-1), max(baseMs, maxMs/2)); never
 * less than `baseMs`.
 */
export interface ThrottleBackoffOptions extends Pick<BackoffPolicy, 'baseMs' | 'maxMs'> {
  /** First delay, in ms. @default 200 */
  readonly baseMs?: number;
  /** Largest delay, in ms. @default 5000 */
  readonly maxMs?: number;
}

/** Options of {@link KinesisShardReader}. Unknown keys are rejected. */
export interface KinesisShardReaderOptions {
  /**
   * The Kinesis client to read with (injected; the reader never creates one). Its SDK retries
   * for GetRecords are capped by `getRecordsMaxAttempts` whatever its own `maxAttempts` is.
   */
  readonly client: KinesisClient;
  /**
   * Stream name, or stream ARN (`arn:aws:kinesis:<region>:<account>:stream/<name>`). With an ARN,
   * API calls carry `StreamARN` and the client's region must be the ARN's.
   */
  readonly stream: string;
  /** Where checkpoints are read at start and written by `checkpoint()`. */
  readonly checkpointStore: CheckpointStore;
  /**
   * Start position of shards that have no checkpoint. Child shards of shards this application
   * has read always start at `TRIM_HORIZON`.
   */
  readonly initialPosition: InitialPosition;
  /**
   * When a child shard (after a split or merge) may start:
   * - `'parent-checkpointed'`: once SHARD_END of every parent is stored, i.e. once the caller
   *   checkpointed each parent's final batch (the order KCL keeps);
   * - `'parent-delivered'`: as soon as each parent's final batch was handed to the caller. The
   *   child's batches are queued after it, so a caller that processes batches in order still
   *   sees a partition key's records in order; SHARD_END is stored whenever the caller
   *   checkpoints that final batch (possibly much later, with `checkpoint(positions, { state })`).
   *   `caughtUp` then works on a stream resharded within the initial window even when the caller
   *   checkpoints only what it has delivered. See docs/kinesis-reader.md#resharding.
   * @default 'parent-checkpointed'
   */
  readonly childShardStart?: 'parent-checkpointed' | 'parent-delivered';
  /** Records per GetRecords call, 1 to 10,000. @default 10000 */
  readonly maxRecords?: number;
  /**
   * A memory budget in records for all shards together. Each shard holds at most one fetched
   * batch until the caller takes it, so a stream with many shards holds shards × `maxRecords`
   * records at once. With this option each GetRecords call asks for at most
   * `floor(maxRecordsInFlight / shards being read)` records (at least 1, at most `maxRecords`);
   * the share is worked out again at every call, so it follows a reshard. A shard that ended
   * and whose final batch waits for the caller still counts until the caller takes it.
   * See DESIGN.md#memory-budget.
   * @default no budget: every call asks for `maxRecords`
   */
  readonly maxRecordsInFlight?: number;
  /**
   * Wait between GetRecords calls on a shard once it is at the tip (`millisBehindLatest` 0 and a
   * batch smaller than `maxRecords`), in ms; never shorter than `minBackToBackMs`.
   * @default 5000
   */
  readonly idleIntervalMs?: number;
  /**
   * Shortest time between the starts of two GetRecords calls on one shard while it is behind,
   * in ms (Kinesis allows 5 calls per second per shard). At least 200.
   * @default 200
   */
  readonly minBackToBackMs?: number;
  /** How often ListShards looks for new shards, in ms (also done at once when a shard ends). @default 60000 */
  readonly shardDiscoveryIntervalMs?: number;
  /** Backoff after throttling and transient errors. @default { baseMs: 200, maxMs: 5000 } */
  readonly throttleBackoff?: ThrottleBackoffOptions;
  /**
   * Attempts the SDK may make for one GetRecords call (1 = no SDK retry), so that the SDK's
   * retry loop and the reader's backoff do not stack into a storm.
   * @default 2
   */
  readonly getRecordsMaxAttempts?: number;
  /** Abort a single Kinesis request that takes longer than this, in ms, and retry it. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Throttles in a row on one shard before a warning is logged. @default 5 */
  readonly warnAfterThrottles?: number;
  /** Optional logger; the reader never writes to the console. */
  readonly logger?: Logger;
  /** Aborting this signal stops the reader gracefully, as `stop()` does (listener removed on stop). */
  readonly signal?: AbortSignal;
}

/** One Kinesis record. */
export interface KinesisRecord {
  /** Sequence number: a decimal string of up to 129 digits (compare as bigint). */
  readonly sequenceNumber: string;
  /** Partition key the producer gave. */
  readonly partitionKey: string;
  /** Payload bytes (already base64-decoded). */
  readonly data: Uint8Array;
  /** When Kinesis accepted the record. */
  readonly approximateArrivalTimestamp: Date;
  /** `'KMS'` when the record was encrypted at rest. */
  readonly encryptionType?: string;
}

/** What identifies a checkpoint: pass a batch itself, or keep these three fields of it. */
export interface CheckpointPosition {
  /** The shard. */
  readonly shardId: string;
  /** The last sequence number processed (null when the shard yielded no record at all). */
  readonly lastSequenceNumber: string | null;
  /** True when this is the shard's final batch: the SHARD_END marker is stored with it. @default false */
  readonly shardEnded?: boolean;
}

/** Options of {@link KinesisShardReader.checkpoint}. */
export interface CheckpointOptions {
  /**
   * An application state (JSON-serializable) to store with the positions in ONE atomic
   * `checkpointStore.commit()`: after a crash, the state and the checkpoints read back together
   * always match. Omit it to store the positions alone.
   */
  readonly state?: unknown;
}

/** A batch of records from one shard, handed to the caller. */
export interface ShardBatch extends CheckpointPosition {
  /** The shard these records come from. */
  readonly shardId: string;
  /** Records in shard order (may be empty only when `shardEnded` is true). */
  readonly records: readonly KinesisRecord[];
  /** How far behind the tip of the shard this batch is, in ms (Kinesis' `MillisBehindLatest`). */
  readonly millisBehindLatest: number;
  /**
   * The last sequence number of `records`; for an empty final batch, the last sequence number
   * read from the shard before (or its checkpoint), or null when nothing was ever read from it.
   */
  readonly lastSequenceNumber: string | null;
  /** True when the shard is closed and this is its last batch: checkpointing it stores SHARD_END. */
  readonly shardEnded: boolean;
  /** Child shards of an ended shard (from `ChildShards`, or from ListShards). Empty otherwise. */
  readonly childShardIds: readonly string[];
  /** True when this batch reached the tip of the shard (nothing more to read right now). */
  readonly atTip: boolean;
  /**
   * Stores this batch's checkpoint (and SHARD_END for a final batch). Call it only after the
   * records have been processed and delivered. Same as `reader.checkpoint(batch)`.
   */
  checkpoint(): Promise<void>;
}

/** Handler of {@link KinesisShardReader.run}. */
export type BatchHandler = (batch: ShardBatch) => Promise<void> | void;

/** Options of {@link KinesisShardReader.run}. */
export interface RunOptions {
  /** Checkpoint each batch after the handler resolved (unless the handler did). @default true */
  readonly autoCheckpoint?: boolean;
}

/** How a shard's iterator was positioned. */
export type IteratorPosition =
  | { readonly type: 'TRIM_HORIZON' }
  | { readonly type: 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

/** Life cycle of a shard inside the reader. */
export type ShardStatus =
  /** Known, waiting for its parents to finish. */
  | 'pending'
  /** Being read. */
  | 'reading'
  /** Read to its end; waiting for its final batch to be checkpointed (SHARD_END). */
  | 'ended'
  /** SHARD_END stored (now or in an earlier run). */
  | 'finished'
  /** Closed shard without checkpoint, not read because the initial position is LATEST. */
  | 'skipped'
  /** Expired (no longer listed by Kinesis). */
  | 'gone';

/** Per-shard counters in {@link ReaderMetrics}. */
export interface ShardMetrics {
  /** Where the shard is in its life cycle. */
  readonly status: ShardStatus;
  /** Last `MillisBehindLatest` seen (null before the first GetRecords). */
  readonly millisBehindLatest: number | null;
  /** Records fetched from this shard. */
  readonly recordsRead: number;
  /** Payload bytes fetched from this shard. */
  readonly bytesRead: number;
  /** Batches handed to the caller. */
  readonly batchesDelivered: number;
  /** Successful GetRecords calls. */
  readonly getRecordsCalls: number;
  /** Throttling errors seen by the reader (after the SDK's own retries). */
  readonly throttles: number;
  /** Expired iterators replaced. */
  readonly iteratorRefreshes: number;
  /**
   * Last sequence number handed to the caller (null before the first non-empty batch). Batches
   * fetched but not handed out (dropped at `stop()`) do not count.
   */
  readonly lastSequenceNumber: string | null;
  /** Last sequence number stored as checkpoint. */
  readonly checkpointSequenceNumber: string | null;
}

/** A snapshot of the reader's counters, from {@link KinesisShardReader.metrics}. */
export interface ReaderMetrics {
  /** Records fetched, over every shard since the reader started. */
  readonly recordsRead: number;
  /** Payload bytes fetched. */
  readonly bytesRead: number;
  /** Batches handed to the caller. */
  readonly batchesDelivered: number;
  /** Successful GetRecords calls. */
  readonly getRecordsCalls: number;
  /** Throttling errors seen by the reader, every operation (after the SDK's own retries). */
  readonly throttles: number;
  /** Expired iterators replaced. */
  readonly iteratorRefreshes: number;
  /** Network errors, timeouts and 5xx answers retried. */
  readonly transientErrors: number;
  /** Shards started (resumed or new). */
  readonly shardStarts: number;
  /** Shards read to their end. */
  readonly shardEnds: number;
  /** Checkpoint writes. */
  readonly checkpointsWritten: number;
  /** Checkpoints that could not be resumed from (records lost). */
  readonly checkpointsExpired: number;
  /** Shard listings done. */
  readonly discoveries: number;
  /** Largest `millisBehindLatest` over the shards being read (0 when none). */
  readonly maxMillisBehindLatest: number;
  /** True once every open shard has reached its tip at least once. */
  readonly caughtUp: boolean;
  /** Per shard id. */
  readonly shards: Readonly<Record<string, ShardMetrics>>;
}

/** Payload of the `shardStarted` event. */
export interface ShardStartedEvent {
  /** The shard. */
  readonly shardId: string;
  /** Where its first iterator points. */
  readonly position: IteratorPosition;
}

/** Payload of the `shardEnded` event: the shard was read to its end. */
export interface ShardEndedEvent {
  /** The shard. */
  readonly shardId: string;
  /** Its children. */
  readonly childShardIds: readonly string[];
  /** The last sequence number read from it (or its checkpoint), null when none. */
  readonly lastSequenceNumber: string | null;
}

/** Payload of the `shardFinished` event: SHARD_END was stored; children may start. */
export interface ShardFinishedEvent {
  /** The shard. */
  readonly shardId: string;
}

/** Payload of the `shardsDiscovered` event. */
export interface ShardsDiscoveredEvent {
  /** Shards seen for the first time. */
  readonly shardIds: readonly string[];
}

/** Payload of the `lag` event, after every GetRecords. */
export interface LagEvent {
  /** The shard. */
  readonly shardId: string;
  /** Kinesis' `MillisBehindLatest` of the call. */
  readonly millisBehindLatest: number;
  /** Records the call returned. */
  readonly records: number;
}

/** Payload of the `throttled` event. */
export interface ThrottledEvent {
  /** The shard, when the call was for one. */
  readonly shardId: string | undefined;
  /** The Kinesis operation throttled. */
  readonly operation: string;
  /** Throttles in a row on this shard (or operation). */
  readonly consecutive: number;
  /** How long the reader waits before trying again, in ms. */
  readonly delayMs: number;
}

/** Payload of the `retrying` event (a transient error: network, 5xx, timeout). */
export interface RetryingEvent {
  /** The shard, when the call was for one. */
  readonly shardId: string | undefined;
  /** The Kinesis operation that failed. */
  readonly operation: string;
  /** Failures in a row of this call. */
  readonly attempt: number;
  /** How long the reader waits before trying again, in ms. */
  readonly delayMs: number;
  /** The error. */
  readonly error: Error;
}

/** Payload of the `iteratorRefreshed` event. */
export interface IteratorRefreshedEvent {
  /** The shard. */
  readonly shardId: string;
  /** The new iterator's position (after the last sequence number read, when there is one). */
  readonly position: IteratorPosition;
}

/** Payload of the `checkpointExpired` event. */
export interface CheckpointExpiredEvent {
  /** The shard. */
  readonly shardId: string;
  /** The unusable checkpoint. */
  readonly sequenceNumber: string;
  /** The error, with a message saying what is lost and what to do. */
  readonly error: CheckpointExpiredError;
}

/** Payload of the `checkpointed` event. */
export interface CheckpointedEvent {
  /** The shard. */
  readonly shardId: string;
  /** The position checkpointed (null for SHARD_END of a shard that yielded nothing). */
  readonly sequenceNumber: string | null;
  /** True when SHARD_END was stored by this write. */
  readonly shardEnd: boolean;
}

/** Payload of the `caughtUp` event. */
export interface CaughtUpEvent {
  /** Shards that were open and read when every one had reached its tip. */
  readonly shardIds: readonly string[];
}

/** Every event of {@link KinesisShardReader}, with its listener arguments. */
export interface KinesisShardReaderEvents {
  shardStarted: [ShardStartedEvent];
  shardEnded: [ShardEndedEvent];
  shardFinished: [ShardFinishedEvent];
  shardsDiscovered: [ShardsDiscoveredEvent];
  lag: [LagEvent];
  throttled: [ThrottledEvent];
  retrying: [RetryingEvent];
  iteratorRefreshed: [IteratorRefreshedEvent];
  checkpointExpired: [CheckpointExpiredEvent];
  checkpointed: [CheckpointedEvent];
  caughtUp: [CaughtUpEvent];
  stopped: [];
}
