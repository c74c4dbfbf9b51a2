/**
 * State shared by the parts of the reader (reader.ts, delivery, discovery, shard loop, calls,
 * checkpointing), and small helpers.
 */
import { setMaxListeners } from 'node:events';
import type { _Record } from '@aws-sdk/client-kinesis';
import type { Checkpoint } from '@connect-wfm/checkpoint-store';
import { stripAwsResponse } from '@connect-wfm/core';
import type { ResolvedOptions } from './options.js';
import type {
  CheckpointPosition,
  IteratorPosition,
  KinesisRecord,
  KinesisShardReaderEvents,
  ShardBatch,
  ShardStatus,
} from './types.js';

/** How far before a LATEST iterator's creation a refreshed iterator starts (clock skew margin). */
export const LATEST_REFRESH_MARGIN_MS = 5_000;
/** How often a listing restarts after ExpiredNextTokenException before it fails. */
export const LIST_SHARDS_RESTARTS = 3;

export interface ShardState {
  readonly id: string;
  parentIds: string[];
  closed: boolean;
  status: ShardStatus;
  /** Sequence number stored in the checkpoint store. */
  checkpointSeq: string | null;
  checkpointShardEnd: boolean;
  readInRun: boolean;
  startPosition: IteratorPosition | undefined;
  latestIssuedAt: number | undefined;
  /** Last sequence number fetched from Kinesis (where a refreshed iterator resumes). */
  lastReadSeq: string | null;
  /** Last sequence number handed to the caller (`ShardMetrics.lastSequenceNumber`). */
  lastDeliveredSeq: string | null;
  /** Order of registration; a listing started before it cannot say the shard is gone. */
  registeredAt: number;
  /** True when the status `gone` came from a listing (a later listing may revive it). */
  goneFromListing: boolean;
  millisBehindLatest: number | null;
  reachedTip: boolean;
  /** The shard's final batch was handed to the caller (children may start in 'parent-delivered'). */
  finalHandedOut: boolean;
  childShardIds: string[];
  recordsRead: number;
  bytesRead: number;
  batchesDelivered: number;
  getRecordsCalls: number;
  throttles: number;
  iteratorRefreshes: number;
  checkpointChain: Promise<void>;
}

export interface Delivery {
  readonly batch: ShardBatch;
  readonly shard: ShardState;
  readonly atTip: boolean;
  readonly settle: (outcome: 'released' | 'discarded') => void;
  checkpointed: boolean;
  /** A checkpoint of this batch failed (e.g. lease lost): stop() no longer waits for it. */
  checkpointFailed: boolean;
}

export type Phase = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface Totals {
  recordsRead: number;
  bytesRead: number;
  batchesDelivered: number;
  getRecordsCalls: number;
  throttles: number;
  iteratorRefreshes: number;
  transientErrors: number;
  shardStarts: number;
  shardEnds: number;
  checkpointsWritten: number;
  checkpointsExpired: number;
  discoveries: number;
}

export function toRecord(r: _Record): KinesisRecord {
  const record: {
    sequenceNumber: string;
    partitionKey: string;
    data: Uint8Array;
    approximateArrivalTimestamp: Date;
    encryptionType?: string;
  } = {
    sequenceNumber: r.SequenceNumber ?? '',
    partitionKey: r.PartitionKey ?? '',
    data: r.Data ?? new Uint8Array(0),
    approximateArrivalTimestamp: r.ApproximateArrivalTimestamp ?? new Date(0),
  };
  if (r.EncryptionType !== undefined) record.encryptionType = r.EncryptionType;
  return record;
}

export function isPositionList(
  value: CheckpointPosition | readonly CheckpointPosition[],
): value is readonly CheckpointPosition[] {
  return Array.isArray(value);
}

export function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : '';
}

export function asError(err: unknown): Error {
  return err instanceof Error ? (stripAwsResponse(err) as Error) : new Error(String(err));
}

/** What the reader's parts share: its options, per-shard state, counters and life cycle. */
export interface ReaderInternals {
  readonly o: ResolvedOptions;
  readonly shards: Map<string, ShardState>;
  readonly abort: AbortController;
  readonly loops: Set<Promise<void>>;
  /** Shard loops running now: the shards that may hold a fetched batch (the budget's divisor). */
  shardLoops: number;
  readonly pendingCheckpoints: Set<Promise<void>>;
  readonly queue: Delivery[];
  readonly totals: Totals;
  phase: Phase;
  startupCheckpoints: ReadonlyMap<string, Checkpoint>;
  /** The batch handed to the caller and not yet given back. */
  current: Delivery | undefined;
  /** Wakes the caller waiting in `next()`. */
  wake: (() => void) | undefined;
  /** Waiting for the batch in hand to be checkpointed or given back (`stop()`). */
  currentWaiters: Array<() => void>;
  failure: Error | undefined;
  caughtUp: boolean;
  reportedExpiredShards: boolean;
  useDescribeStream: boolean;
  discovering: Promise<void> | undefined;
  discoverAgain: boolean;
  registrations: number;
  /** The reader's `emit`. */
  readonly emit: <K extends keyof KinesisShardReaderEvents>(
    event: K,
    ...args: KinesisShardReaderEvents[K]
  ) => boolean;
  /** The reader's `stop()`. */
  readonly stop: () => Promise<void>;
  /** The reader's `checkpoint()`. */
  readonly checkpoint: (position: CheckpointPosition) => Promise<void>;
}

/** The initial shared state. */
export function createInternals(
  o: ResolvedOptions,
  reader: Pick<ReaderInternals, 'emit' | 'stop' | 'checkpoint'>,
): ReaderInternals {
  const abort = new AbortController();
  // Every shard loop waits on this signal (a sleep or a request, each removing its listener
  // after): more than 10 shards is normal, not a leak, so Node's warning at 11 is turned off.
  setMaxListeners(0, abort.signal);
  return {
    o,
    shards: new Map(),
    abort,
    loops: new Set(),
    shardLoops: 0,
    pendingCheckpoints: new Set(),
    queue: [],
    totals: {
      recordsRead: 0,
      bytesRead: 0,
      batchesDelivered: 0,
      getRecordsCalls: 0,
      throttles: 0,
      iteratorRefreshes: 0,
      transientErrors: 0,
      shardStarts: 0,
      shardEnds: 0,
      checkpointsWritten: 0,
      checkpointsExpired: 0,
      discoveries: 0,
    },
    phase: 'new',
    startupCheckpoints: new Map(),
    current: undefined,
    wake: undefined,
    currentWaiters: [],
    failure: undefined,
    caughtUp: false,
    reportedExpiredShards: false,
    useDescribeStream: false,
    discovering: undefined,
    discoverAgain: false,
    registrations: 0,
    ...reader,
  };
}
