/** Public types of the Kinesis fault proxy (kinesis-faults.ts). */
import type { KinesisClient, KinesisClientConfig } from '@aws-sdk/client-kinesis';
import type { LocalCredentials } from './kinesis.js';

/** A Kinesis operation name, as in the `X-Amz-Target` header (`Kinesis_20131202.<op>`). */
export type KinesisOperation =
  | 'GetRecords'
  | 'GetShardIterator'
  | 'ListShards'
  | 'DescribeStream'
  | 'DescribeStreamSummary'
  | 'PutRecords'
  | 'PutRecord'
  | (string & {});

/** Which requests a fault applies to. */
export interface FaultTarget {
  /** Operation to hit. @default 'GetRecords' */
  readonly operation?: KinesisOperation;
  /**
   * Only requests for this shard (GetShardIterator by its `ShardId`, GetRecords by the shard
   * the iterator was issued for, as tracked by the proxy).
   */
  readonly shardId?: string;
  /** How many matching requests to hit before the fault is used up. @default 1 */
  readonly times?: number;
}

/**
 * A fault to inject:
 * - `throttle`: answer `400 ProvisionedThroughputExceededException` (default operation GetRecords);
 * - `expiredIterator`: answer `400 ExpiredIteratorException` (GetRecords);
 * - `error`: answer any AWS JSON error (`type`, `status`, `message`);
 * - `delay`: forward after `ms` milliseconds;
 * - `dropConnection`: destroy the socket without answering (the SDK sees a network error).
 */
export type KinesisFault = FaultTarget &
  (
    | { readonly kind: 'throttle' }
    | { readonly kind: 'expiredIterator' }
    | {
        readonly kind: 'error';
        readonly type: string;
        readonly status?: number;
        readonly message?: string;
      }
    | { readonly kind: 'delay'; readonly ms: number }
    | { readonly kind: 'dropConnection' }
  );

/** Options of {@link startKinesisFaultProxy}. */
export interface KinesisFaultProxyOptions {
  /** The Kinesis endpoint to forward to, e.g. `kinesalite.endpoint`. */
  readonly target: string;
  /** Region for clients made by `client()`. @default 'us-east-1' */
  readonly region?: string;
  /** Credentials for clients made by `client()`. */
  readonly credentials?: LocalCredentials;
  /**
   * `'present'`: add `ChildShards` to a GetRecords response whose `NextShardIterator` is null,
   * as real Kinesis does; `'absent'`: pass kinesalite's response through (no `ChildShards`).
   * @default 'absent'
   */
  readonly childShards?: 'absent' | 'present';
}

/** Request and fault counters of a {@link KinesisFaultProxy}. */
export interface KinesisFaultProxyStats {
  /** Requests received, per operation (faulted ones included). */
  readonly requests: Readonly<Record<string, number>>;
  /** Faults answered, per kind (`trimmedSequenceNumber` counts emulated trim rejections). */
  readonly injected: Readonly<Record<string, number>>;
}

/** A ListShards answer held back by {@link ListShardsControl.hold}. */
export interface HeldListing {
  /** Resolves once the held request has arrived (and been forwarded). */
  readonly received: Promise<void>;
  /** Sends the held answer. */
  release(): void;
}

/** One ListShards request the proxy saw. */
export interface ListShardsRequest {
  /** Whether it carried a `NextToken`. */
  readonly token: boolean;
  /** Whether it was answered `ExpiredNextTokenException`. */
  readonly expired: boolean;
}

/**
 * ListShards answers that kinesalite cannot produce: a listing taken before a split and answered
 * after it, pagination with tokens that expire, one listing that misses a shard.
 */
export interface ListShardsControl {
  /** ListShards requests seen, in order (the `ChildShards` emulation's own calls excluded). */
  readonly requests: readonly ListShardsRequest[];
  /** The next ListShards is forwarded at once, but its answer is held until `release()`. */
  hold(): HeldListing;
  /**
   * From now on, answers one shard per page with a `NextToken`; the next `expireTokens`
   * requests that carry a token are answered `400 ExpiredNextTokenException`.
   */
  paginate(expireTokens?: number): void;
  /** Leaves `shardId` out of the next ListShards answer; resolves once that answer was sent. */
  omit(shardId: string): Promise<void>;
}

/** A running fault proxy. */
export interface KinesisFaultProxy {
  /** `http://127.0.0.1:<port>`: point the client here. */
  readonly endpoint: string;
  /** A Kinesis client aimed at the proxy (HTTP/1.1 handler). Destroyed by `stop()`. */
  client(config?: Partial<KinesisClientConfig>): KinesisClient;
  /** Queues a fault; faults are matched in the order they were injected. */
  inject(fault: KinesisFault): void;
  /** Drops every queued fault that has not been used up. */
  clearFaults(): void;
  /** Switches the `ChildShards` emulation. */
  setChildShards(mode: 'absent' | 'present'): void;
  /**
   * Emulates retention having trimmed `shardId` of `streamName` up to (not including) `firstRetainedSequenceNumber`:
   * GetShardIterator `AT_`/`AFTER_SEQUENCE_NUMBER` with a lower sequence number answers
   * `400 InvalidArgumentException` (as Kinesis does for a StartingSequenceNumber that is no
   * longer available), `TRIM_HORIZON` starts at `firstRetainedSequenceNumber`, and GetRecords
   * drops records below it.
   */
  trim(streamName: string, shardId: string, firstRetainedSequenceNumber: string): void;
  /** Changes ListShards answers (see {@link ListShardsControl}). */
  readonly listShards: ListShardsControl;
  /** Counters since start. */
  stats(): KinesisFaultProxyStats;
  /** Stops the proxy and destroys every client made by `client()`. */
  stop(): Promise<void>;
}
