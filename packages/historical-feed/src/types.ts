import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@connect-wfm/core';
import type { HistoricalFeedError } from './errors.js';

export type { Logger } from '@connect-wfm/core';

/** An S3 object announced by a message. */
export interface ObjectRef {
  /** Bucket name. */
  readonly bucket: string;
  /** Object key, decoded (spaces, not `+`). */
  readonly key: string;
  /** The event name (`ObjectCreated:Put`, `Object Created`, ...). */
  readonly eventName: string;
  /** Object size from the notification, when given. */
  readonly size?: number;
  /** ETag from the notification, when given. */
  readonly eTag?: string;
}

/** What an SQS message holds. */
export type ParsedMessage =
  /** `s3:TestEvent`: acknowledged and ignored. */
  | { readonly kind: 'test' }
  /** Created objects to deliver, and events that are acknowledged without work (deletions...). */
  | {
      readonly kind: 'objects';
      readonly objects: readonly ObjectRef[];
      readonly ignored: readonly string[];
    };

/** The two kinds of object the feed delivers. */
export type ObjectKind = 'ctr' | 'report';

/** Key prefixes used to classify objects. */
export interface ClassifyOptions {
  /** Objects under it are Firehose CTR objects. `''` disables the prefix. */
  readonly ctrPrefix: string;
  /** Objects under it are exported reports. `''` disables the prefix. */
  readonly reportPrefix: string;
  /** The feed's own quarantine output: never delivered. */
  readonly quarantinePrefix: string;
}

/** The uploader the feed writes through (an `SftpUploader` fits). */
export interface FileUploader {
  /**
   * Uploads a file and resolves once it is under its final name (atomic publish). Rejects
   * without publishing anything when the body fails.
   */
  put(
    name: string,
    body: string | Uint8Array | AsyncIterable<Uint8Array | string>,
  ): Promise<{ readonly bytes: number; readonly remotePath: string }>;
  /**
   * Opens the connection ahead of the first `put` (optional). The feed calls it when it starts
   * on an object, so the handshake overlaps fetching the object; it must never reject.
   */
  connect?(): Promise<unknown>;
}

/** Which interval statistics files are written beside the raw CSV. */
export type StatsOutputs = 'none' | 'queue' | 'agent-queue' | 'both';

/** Options of {@link HistoricalFeed}. */
export interface HistoricalFeedOptions {
  /** S3 client for GetObject, tagging and quarantine writes. */
  readonly s3: S3Client;
  /** KMS client, needed for client-side encrypted objects. */
  readonly kms?: KMSClient | undefined;
  /** Where files go. */
  readonly uploader: FileUploader;
  /** @default 'ctr/' */
  readonly ctrPrefix?: string | undefined;
  /** @default 'reports/' */
  readonly reportPrefix?: string | undefined;
  /** Prefix (in the object's own bucket) for bad bytes. @default 'quarantine/' */
  readonly quarantinePrefix?: string | undefined;
  /** Classify by the first bytes when no prefix matches. @default true */
  readonly sniffContent?: boolean | undefined;
  /** Reports delivered byte-identical, or mapped (docs/historical-formats.md#agent-performance). @default 'passthrough' */
  readonly reportMode?: 'passthrough' | 'mapped' | undefined;
  /** Interval statistics written beside each CTR CSV. @default 'none' */
  readonly statsOutputs?: StatsOutputs | undefined;
  /** Interval length of the statistics. @default 15 */
  readonly statsIntervalMinutes?: 15 | 30 | 60 | undefined;
  /** Tag key set on a delivered object (value: delivery time). @default 'connect-wfm-delivered' */
  readonly deliveredTag?: string | undefined;
  /** KMS key the data keys must be wrapped with (refuses others). @default any */
  readonly kmsKeyId?: string | undefined;
  /** Most bad bytes kept per object in quarantine; offsets are always kept. @default 8388608 */
  readonly maxQuarantineBytes?: number | undefined;
  /**
   * Bytes of the object read ahead of the conversion (0: none). The S3 download then runs while
   * the mapper and the SFTP upload work, instead of stopping each time they are busy.
   * @default 8388608
   */
  readonly readAheadBytes?: number | undefined;
  /** Optional logger. */
  readonly logger?: Logger | undefined;
}

/** One file written to the SFTP server. */
export interface DeliveredFile {
  /** File name relative to the remote directory. */
  readonly name: string;
  /** Bytes written. */
  readonly bytes: number;
}

/** What happened to one object. */
export type ObjectOutcome =
  | {
      readonly status: 'delivered';
      readonly object: string;
      readonly kind: ObjectKind;
      readonly encryption: 'none' | 'v1' | 'v2';
      readonly files: readonly DeliveredFile[];
      /** CTRs converted (CTR objects) or 0. */
      readonly records: number;
      /** Bad records (or regions) quarantined. */
      readonly badRecords: number;
      /** Bytes read from S3 after decryption (decompressed bytes for CTR objects). */
      readonly bytesIn: number;
      /** Quarantine object key, when bad records were found. */
      readonly quarantineKey?: string;
      readonly durationMs: number;
    }
  | { readonly status: 'already-delivered'; readonly object: string }
  | { readonly status: 'skipped'; readonly object: string; readonly reason: string }
  | { readonly status: 'failed'; readonly object: string; readonly error: HistoricalFeedError };

/** What happened to one SQS message. */
export interface MessageOutcome {
  readonly messageId: string;
  /** True when the message may be deleted: every object it names is delivered or skipped. */
  readonly acknowledge: boolean;
  /** For a message that is not acknowledged: whether a retry may succeed. */
  readonly retryable: boolean;
  /** Per object. */
  readonly objects: readonly ObjectOutcome[];
  /** Why the message was not acknowledged (the first failure). */
  readonly error?: HistoricalFeedError;
}
