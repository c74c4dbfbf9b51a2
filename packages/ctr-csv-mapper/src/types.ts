/**
 * Public option and result types of @connect-wfm/ctr-csv-mapper.
 */

/** The logger this package accepts: `@connect-wfm/core`'s (the library never writes to the console). */
export type { Logger } from '@connect-wfm/core';

import type { Logger } from '@connect-wfm/core';

/** A byte source: a Node `Readable`, or any (async) iterable of `Buffer`/`Uint8Array` chunks. */
export type ByteSource = NodeJS.ReadableStream | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** An endpoint (`{Address, Type}`) as far as this package reads it. */
export interface CtrEndpoint {
  /** Phone number or other address; the CSV writes this. */
  readonly Address?: string | null | undefined;
}

/** The `Agent` part of a CTR, as far as this package reads it. */
export interface CtrAgent {
  /** The agent's ARN; the CSV writes its last path segment (the agent id) unless `arn: 'full'`. */
  readonly ARN?: string | null | undefined;
  /** The agent's Connect username (login). */
  readonly Username?: string | null | undefined;
  /** When the customer was connected to the agent; non-null means "answered". */
  readonly ConnectedToAgentTimestamp?: string | null | undefined;
  /** Talk time in seconds, excluding hold and after-contact work. */
  readonly AgentInteractionDuration?: number | null | undefined;
  /** After-contact work in seconds. */
  readonly AfterContactWorkDuration?: number | null | undefined;
  /** Customer hold time in seconds. */
  readonly CustomerHoldDuration?: number | null | undefined;
}

/** The `Queue` part of a CTR, as far as this package reads it. */
export interface CtrQueue {
  /** The queue's ARN; its last path segment is the queue id. */
  readonly ARN?: string | null | undefined;
  /** The queue's name. */
  readonly Name?: string | null | undefined;
  /** When the contact entered the queue: decides its statistics interval. */
  readonly EnqueueTimestamp?: string | null | undefined;
  /** Seconds in queue (dequeue − enqueue). */
  readonly Duration?: number | null | undefined;
}

/**
 * A validated contact trace record: the fields this package uses, typed. `null` and a missing key
 * both mean "no value". The full parsed JSON (unknown fields included) is in
 * {@link FirehoseRecordItem.raw}.
 */
export interface CtrRecord {
  /** The contact's id (required, non-empty). */
  readonly ContactId: string;
  /** `VOICE`, `CHAT`, `TASK`, `EMAIL`... */
  readonly Channel?: string | null | undefined;
  /** `INBOUND`, `OUTBOUND`, `TRANSFER`, `CALLBACK`... */
  readonly InitiationMethod?: string | null | undefined;
  /** ISO-8601 UTC timestamp. */
  readonly InitiationTimestamp?: string | null | undefined;
  /** ISO-8601 UTC timestamp; the latest one wins when a ContactId repeats (statistics only). */
  readonly LastUpdateTimestamp?: string | null | undefined;
  /** Set when the contact was transferred out. */
  readonly TransferCompletedTimestamp?: string | null | undefined;
  /** External transfer destination. */
  readonly TransferredToEndpoint?: CtrEndpoint | null | undefined;
  /** The number the customer called. */
  readonly SystemEndpoint?: CtrEndpoint | null | undefined;
  /** Null when the contact never reached an agent. */
  readonly Agent?: CtrAgent | null | undefined;
  /** Present when the contact was queued. */
  readonly Queue?: CtrQueue | null | undefined;
}

/** A well-formed CTR read from a Firehose object. */
export interface FirehoseRecordItem {
  /** Discriminant. */
  readonly kind: 'record';
  /** The validated fields. */
  readonly record: CtrRecord;
  /** The whole parsed JSON object, unknown fields included. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** Byte offset of the record's `{` in the decompressed stream. */
  readonly offset: number;
  /** Length of the record in bytes. */
  readonly length: number;
  /** The `sourceName` given to the reader. */
  readonly sourceName: string;
}

/** Why a stretch of input is a bad record. */
export type BadRecordReason =
  /** Not valid JSON (or a fragment of it), including bytes between records. */
  | 'invalid-json'
  /** The input ended inside a record. */
  | 'truncated'
  /** A record longer than `maxRecordBytes` without ending. */
  | 'too-large'
  /** Valid JSON but not a CTR: no `ContactId`, or a wrong type in a field this package uses. */
  | 'not-a-ctr'
  /** Bytes that are not valid UTF-8. */
  | 'invalid-utf8'
  /** The GZIP stream is corrupt or truncated; nothing after this offset could be read. */
  | 'corrupt-gzip';

/**
 * A malformed stretch of input: one bad record, or several adjacent malformed bytes that could
 * not be told apart (see the README's recovery rule). The records before and after it are still
 * delivered.
 */
export interface FirehoseBadItem {
  /** Discriminant. */
  readonly kind: 'bad';
  /** Byte offset of the first bad byte in the decompressed stream (inclusive). */
  readonly offset: number;
  /** Byte offset just after the last bad byte in the decompressed stream (`offset + length`). */
  readonly end: number;
  /** Number of bad bytes (up to the next good record or the end of input). */
  readonly length: number;
  /** The first 200 bytes, decoded as UTF-8 (invalid sequences shown as U+FFFD). */
  readonly preview: string;
  /**
   * The bad bytes themselves, exactly as they were in the decompressed stream, up to
   * `maxBadBytes` of them (the first ones). Copied out of the reader's buffer: safe to keep.
   * Empty for `corrupt-gzip` (the damage is in the compressed bytes) and when `maxBadBytes` is 0.
   */
  readonly bytes: Buffer;
  /** True when `bytes` holds fewer than `length` bytes (the region was longer than `maxBadBytes`). */
  readonly truncated: boolean;
  /** Machine-readable reason. */
  readonly reason: BadRecordReason;
  /** Human-readable detail (the JSON error, the zod issues...). */
  readonly detail: string;
  /** The `sourceName` given to the reader. */
  readonly sourceName: string;
}

/** What the reader yields. */
export type FirehoseItem = FirehoseRecordItem | FirehoseBadItem;

/** Running totals passed to `onProgress`. */
export interface ReadProgress {
  /** Bytes read from the source (compressed bytes for a GZIP object). */
  readonly rawBytes: number;
  /** Decompressed bytes scanned. */
  readonly bytes: number;
  /** Good records found so far. */
  readonly records: number;
  /** Bad records (or bad regions) found so far. */
  readonly badRecords: number;
}

/** Options of `readFirehoseRecords` / `readFirehoseBatches`. */
export interface ReadFirehoseOptions {
  /** Name of the input (S3 object key or file name), copied into every item and error. @default '(input)' */
  readonly sourceName?: string | undefined;
  /**
   * A record longer than this many bytes without ending is reported as bad (`too-large`). Bounds
   * the reader's memory; Firehose records are at most 1000 KiB. @default 2097152 (2 MiB)
   */
  readonly maxRecordBytes?: number | undefined;
  /**
   * Decompression: `'auto'` detects GZIP by its magic bytes `1f 8b`, `'gzip'` forces it, `'none'`
   * disables it. @default 'auto'
   */
  readonly compression?: 'auto' | 'gzip' | 'none' | undefined;
  /**
   * Most bytes of each bad item copied into {@link FirehoseBadItem.bytes} (for a quarantine copy).
   * Bounds memory per bad item whatever its length; 0 copies none. @default 1048576 (1 MiB)
   */
  readonly maxBadBytes?: number | undefined;
  /** Called with each bad item as it is found (in addition to yielding it). */
  readonly onBadRecord?: ((bad: FirehoseBadItem) => void) | undefined;
  /** Called after each input chunk with running totals (for progress displays). */
  readonly onProgress?: ((progress: ReadProgress) => void) | undefined;
  /** Optional logger (debug: detected compression; warn: bad records). */
  readonly logger?: Logger | undefined;
}

/** How an ARN is written. `'id'`: its last path segment; `'full'`: the whole ARN. */
export type ArnMode = 'id' | 'full';

/**
 * How text that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, tab or
 * CR) is written. `'none'`: as it is, which is what the WFM imports (a phone number such as
 * `+44…` stays a phone number). `'quote-prefix'`: with a leading `'`, quoted, for files that
 * people open in a spreadsheet (docs/historical-formats.md#formula-escape).
 */
export type FormulaEscape = 'none' | 'quote-prefix';

/** Options of the raw CTR CSV writer. */
export interface CtrCsvOptions {
  /** How `Agent_ARN` and `Queue_ARN` are written. @default 'id' */
  readonly arn?: ArnMode | undefined;
  /** Formula escaping of text fields (see {@link FormulaEscape}). @default 'none' */
  readonly formulaEscape?: FormulaEscape | undefined;
  /** Write the header row. @default true */
  readonly header?: boolean | undefined;
  /** Called for each bad item met in the input (bad items produce no row). */
  readonly onBadRecord?: ((bad: FirehoseBadItem) => void) | undefined;
  /** Approximate size in bytes of the Buffers the stream emits. @default 65536 */
  readonly chunkBytes?: number | undefined;
}

/** Length of a statistics interval in minutes. */
export type IntervalMinutes = 15 | 30 | 60;

/** Settings of the interval statistics. */
export interface IntervalStatsOptions {
  /** Interval length, counted from 00:00 UTC. @default 15 */
  readonly intervalMinutes?: IntervalMinutes | undefined;
  /** Service level threshold in seconds (`Queue.Duration < sla`). @default 20 */
  readonly slaSeconds?: number | undefined;
  /** Short-abandon threshold in seconds (`Queue.Duration < shortAbandon`). @default 5 */
  readonly shortAbandonSeconds?: number | undefined;
  /** How `queue_id` is written: the ARN's last segment or the whole ARN. @default 'id' */
  readonly arn?: ArnMode | undefined;
}

/** One queue statistics row (docs/historical-formats.md#interval-statistics). Empty fields are `null`. */
export interface QueueStatsRow {
  /** Interval start, `2026-11-24T08:15:00Z`. */
  readonly interval_start: string;
  /** Interval length in minutes. */
  readonly interval_minutes: IntervalMinutes;
  /** Queue id (ARN's last segment, or the full ARN). */
  readonly queue_id: string;
  /** Queue name, from the contact with the latest `LastUpdateTimestamp` in the group. */
  readonly queue_name: string;
  /** Sum of `Agent.AgentInteractionDuration`, answered. */
  readonly talking_call_dur: number;
  /** Sum of `Agent.AfterContactWorkDuration`, answered. */
  readonly wrap_up_dur: number;
  /** Count with `TransferredToEndpoint` not null. */
  readonly overflow_in_call_cnt: number;
  /** Count with `TransferCompletedTimestamp` not null. */
  readonly overflow_out_call_cnt: number;
  /** Count abandoned. */
  readonly aband_call_cnt: number;
  /** Count answered. */
  readonly answ_call_cnt: number;
  /** Sum of `Queue.Duration`, answered. */
  readonly queued_and_answ_call_dur: number;
  /** Sum of `Queue.Duration`, abandoned. */
  readonly queued_and_aband_call_dur: number;
  /** Max of `Queue.Duration`, answered (0 when none). */
  readonly queued_answ_longest_que_dur: number;
  /** Max of `Queue.Duration`, abandoned (0 when none). */
  readonly queued_aband_longest_que_dur: number;
  /** Not available from Connect: always empty. */
  readonly avg_avail_member_cnt: null;
  /** Count answered with `Queue.Duration < sla`. */
  readonly ans_servicelevel_cnt: number;
  /** Not available from Connect: always empty. */
  readonly wait_dur: null;
  /** Count abandoned with `Queue.Duration < shortAbandon`. */
  readonly aband_short_call_cnt: number;
  /** Count abandoned with `Queue.Duration < sla`. */
  readonly aband_within_sl_cnt: number;
}

/** One agent-queue statistics row (docs/historical-formats.md#interval-statistics): answered contacts only. */
export interface AgentQueueStatsRow {
  /** Interval start, `2026-11-24T08:15:00Z`. */
  readonly interval_start: string;
  /** Interval length in minutes. */
  readonly interval_minutes: IntervalMinutes;
  /** Queue id (ARN's last segment, or the full ARN). */
  readonly queue_id: string;
  /** `Agent.Username` (empty when missing). */
  readonly agent_username: string;
  /** Sum of `Agent.AgentInteractionDuration`. */
  readonly talking_call_dur: number;
  /** Sum of `Agent.AfterContactWorkDuration`. */
  readonly wrap_up_dur: number;
  /** Count answered. */
  readonly answ_call_cnt: number;
  /** Count with `TransferCompletedTimestamp` not null. */
  readonly transfer_out_call_cnt: number;
}

/** Counters of an {@link IntervalStatsAccumulator}. */
export interface IntervalStatsCounts {
  /** Records added (duplicates included). */
  readonly recordsAdded: number;
  /** Distinct ContactIds kept after de-duplication. */
  readonly distinctContacts: number;
  /** Records that replaced or were dropped in favour of another version of the same ContactId. */
  readonly duplicates: number;
  /** Distinct contacts counted in the statistics (queued, with an enqueue timestamp). */
  readonly queuedContacts: number;
  /** Distinct contacts with no `Queue` (not in the statistics). */
  readonly withoutQueue: number;
  /** Distinct contacts with a `Queue` but no `Queue.EnqueueTimestamp` (not in the statistics). */
  readonly withoutEnqueueTimestamp: number;
}

/** Options of the agent performance mapping (docs/historical-formats.md#agent-performance). */
export interface AgentPerformanceOptions {
  /** Split each 30-minute row into two 15-minute rows, durations halved (first half gets the odd second). @default false */
  readonly split15?: boolean | undefined;
  /** Interval length of the report's rows. Only 30 can be split. @default 30 */
  readonly reportIntervalMinutes?: IntervalMinutes | undefined;
  /** Name of the report for error messages. @default '(report)' */
  readonly sourceName?: string | undefined;
  /** Formula escaping of text fields in the mapped CSV (see {@link FormulaEscape}). @default 'none' */
  readonly formulaEscape?: FormulaEscape | undefined;
  /**
   * Largest report read, in bytes: a bigger input is refused with `AgentReportTooLargeError`
   * before it is parsed (a report has one row per agent and interval, a few MB a day).
   * @default 33554432 (32 MiB)
   */
  readonly maxReportBytes?: number | undefined;
}

/** Options of {@link IntervalStatsAccumulator.toCsv}. */
export interface StatsCsvOptions {
  /** Formula escaping of text fields (see {@link FormulaEscape}). @default 'none' */
  readonly formulaEscape?: FormulaEscape | undefined;
}

/** One mapped agent performance row. Durations are whole seconds; `null` is an empty field. */
export interface AgentPerformanceRow {
  /** Interval start, `2026-11-24T08:30:00Z`. */
  readonly interval_start: string;
  /** Interval length in minutes (15 after a split). */
  readonly interval_minutes: IntervalMinutes;
  /** The report's agent column (the agent's login). */
  readonly agent_username: string;
  /** Online time. `null` when the report has `-`. */
  readonly tot_work_dur: number | null;
  /** Non-Productive Time. */
  readonly pause_dur: number | null;
  /** Online time − Non-Productive Time (never below 0; `null` when Online time is `-`). */
  readonly avail_dur: number | null;
  /** Agent idle time. */
  readonly wait_dur: number | null;
  /** Not available: always empty. */
  readonly admin_dur: null;
  /** Not available: always empty. */
  readonly direct_out_call_cnt: null;
  /** Not available: always empty. */
  readonly direct_out_call_dur: null;
  /** Not available: always empty. */
  readonly direct_in_call_cnt: null;
  /** Not available: always empty. */
  readonly direct_in_call_dur: null;
}

/** Result of the agent performance mapping. */
export interface AgentPerformanceResult {
  /** Mapped rows, in report order (split rows in time order). */
  readonly rows: readonly AgentPerformanceRow[];
  /** The mapped rows as CSV (header + rows, `\n` line endings, RFC 4180 quoting). */
  readonly csv: string;
  /** Rows skipped because they are totals or have no interval. */
  readonly skippedRows: number;
}
