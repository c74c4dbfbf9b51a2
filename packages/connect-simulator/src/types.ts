/** Public option and result types of the simulator. */

/** A Connect contact channel the simulator produces. */
export type Channel = 'VOICE' | 'CHAT' | 'TASK';

/** A contact state inside an agent event snapshot (the package DESIGN.md#agent-events). */
export type ContactState =
  | 'INCOMING'
  | 'PENDING'
  | 'CONNECTING'
  | 'CONNECTED'
  | 'CONNECTED_ONHOLD'
  | 'MISSED'
  | 'ERROR'
  | 'ENDED'
  | 'REJECTED';

/** Rates of the optional faults (each a probability per record, 0 to 1). All default to 0. */
export interface FaultOptions {
  /** An agent event or CTR is written a second time (same bytes, same EventId / ContactId). */
  readonly duplicate?: number;
  /** An agent event swaps places with the next event of the same agent (LOGIN/LOGOUT excepted). */
  readonly reorder?: number;
  /** A malformed agent event (not JSON, or no username) or a malformed record in a CTR object. */
  readonly malformed?: number;
  /** A CTR update arrives 1 to 3 hours late instead of within minutes. */
  readonly lateUpdate?: number;
}

/** How Firehose buffers CTRs into S3 objects. */
export interface FirehoseOptions {
  /** Key prefix of CTR objects. @default 'ctr/' */
  readonly prefix?: string;
  /** Delivery stream name used in object keys. @default 'connect-ctr' */
  readonly streamName?: string;
  /** Flush when the buffer holds this many bytes. @default 5 MiB */
  readonly bufferBytes?: number;
  /** Flush when the oldest buffered record is this old (simulated seconds). @default 300 */
  readonly bufferSeconds?: number;
  /** Key suffix `.gz`: the S3 writer gzips these objects. @default false */
  readonly gzip?: boolean;
  /** What goes between records: nothing (Connect's default) or a newline. @default 'none' */
  readonly delimiter?: 'none' | 'newline';
}

/** Options of the model ({@link Simulation}). */
export interface SimulationOptions {
  /** Seed of every random draw. @default 1 */
  readonly seed?: number;
  /** Number of agents. @default 20 */
  readonly agents?: number;
  /** Simulated start time (floored to the second). @default today 08:00 UTC */
  readonly start?: Date;
  /** AWS region in the ARNs. @default 'eu-west-2' */
  readonly region?: string;
  /** AWS account id in the ARNs and records. @default '111122223333' */
  readonly accountId?: string;
  /** Connect instance id (a UUID) in the ARNs. @default derived from the seed */
  readonly instanceId?: string;
  /** Seconds between heart beats of an agent with nothing else to report. @default 120 */
  readonly heartbeatSeconds?: number;
  /** Heart beats go on for this long after a logout, carrying the last status before it. @default 3600 */
  readonly heartbeatAfterLogoutSeconds?: number;
  /** Contact volume multiplier (1 keeps agents about 70 % busy). @default 1 */
  readonly load?: number;
  /** Firehose buffering of CTR objects. */
  readonly firehose?: FirehoseOptions;
  /** Key prefix of the agent performance report. @default 'Reports/' */
  readonly reportPrefix?: string;
  /** Report name in the report keys. @default 'TeleoptiAgentPerformance' */
  readonly reportName?: string;
  /** Faults to inject. @default none */
  readonly faults?: FaultOptions;
}

/** One agent event as written to Kinesis. */
export interface AgentEventOutput {
  readonly kind: 'agent-event';
  /** Simulated time the record is written, epoch ms. */
  readonly at: number;
  /** Partition key: the agent ARN. */
  readonly partitionKey: string;
  /** The agent's username. */
  readonly username: string;
  /** EventId of the record, `null` for a malformed one. */
  readonly eventId: string | null;
  /** EventType, `null` for a malformed one. */
  readonly eventType: string | null;
  /** The record's bytes (UTF-8 JSON, or garbage for a malformed record). */
  readonly data: string;
  /** Set when the record is an injected fault. */
  readonly fault?: 'duplicate' | 'malformed' | 'reordered';
}

/** A malformed region written into a CTR object on purpose. */
export interface InjectedMalformedRecord {
  /** Object key. */
  readonly key: string;
  /** Byte offset in the uncompressed object. */
  readonly offset: number;
  /** Length in bytes. */
  readonly length: number;
  /** What was written. */
  readonly text: string;
}

/** One Firehose object of CTRs. */
export interface CtrObjectOutput {
  readonly kind: 'ctr-object';
  /** Simulated time the object is written, epoch ms. */
  readonly at: number;
  /** Object key (ends in `.gz` when gzip is on: the writer compresses `body`). */
  readonly key: string;
  /** Uncompressed body: concatenated JSON records. */
  readonly body: Buffer;
  /** Number of CTR records (duplicates and updates included, malformed records excluded). */
  readonly records: number;
  /** ContactIds of the records, in order. */
  readonly contactIds: readonly string[];
  /** Malformed records injected into this object. */
  readonly malformed: readonly InjectedMalformedRecord[];
  /** Whether the writer gzips it. */
  readonly gzip: boolean;
}

/** One agent performance report CSV. */
export interface ReportOutput {
  readonly kind: 'report';
  /** Simulated time the report is written, epoch ms. */
  readonly at: number;
  /** Object key. */
  readonly key: string;
  /** CSV text. */
  readonly body: string;
  /** Start of the 30-minute interval it covers, epoch ms. */
  readonly intervalStart: number;
  /** Number of agent rows. */
  readonly rows: number;
}

/** Anything the model writes. */
export type SimulationOutput = AgentEventOutput | CtrObjectOutput | ReportOutput;

/** The state the WFM should hold for an agent (docs/rta-state-rules.md), from the model itself. */
export interface TruthState {
  /** StateCode: `LOGGED-OFF`, a contact activity (`OnContact`, `OnHold`, `Offered`, `AfterContactWork`, `Missed`) or the status name. */
  readonly stateCode: string;
  /** StateDescription. */
  readonly stateDescription: string;
  /** True when the agent is logged out. */
  readonly loggedOut: boolean;
  /** EventTimestamp (epoch ms) of the event that produced it; 0 for an agent with no event yet. */
  readonly since: number;
  /** EventId of that event, `null` for an agent with no event yet. */
  readonly eventId: string | null;
}

/** One agent in the ground truth. */
export interface AgentTruth {
  /** Connect username (the WFM's UserCode). */
  readonly username: string;
  /** Agent ARN. */
  readonly arn: string;
  /** Routing profile name. */
  readonly routingProfile: string;
  /** The state the WFM should hold now. */
  readonly state: TruthState;
}

/** One finished contact in the ground truth. */
export interface ContactTruth {
  readonly contactId: string;
  readonly channel: Channel;
  readonly initiationMethod: string;
  /** Queue id (ARN's last segment), `null` when never queued. */
  readonly queueId: string | null;
  readonly queueName: string | null;
  /** Username of the agent that answered, `null` when not answered. */
  readonly agentUsername: string | null;
  /** Answered by an agent. */
  readonly answered: boolean;
  /** Enqueue time, epoch ms, `null` when never queued. */
  readonly enqueuedAt: number | null;
  /** Seconds in queue, `null` when never queued. */
  readonly queueSeconds: number | null;
  readonly talkSeconds: number;
  readonly holdSeconds: number;
  readonly acwSeconds: number;
  /** Transferred out of Connect. */
  readonly transferredOut: boolean;
  /** How many CTR versions were written (the first plus updates). */
  readonly versions: number;
  /** The raw CTR CSV row expected for the latest version (docs/historical-formats.md#raw-ctr-csv), no line end. */
  readonly csvRow: string;
}

/** Interval statistics settings. */
export interface IntervalSettings {
  /** @default 15 */
  readonly intervalMinutes?: 15 | 30 | 60;
  /** @default 20 */
  readonly slaSeconds?: number;
  /** @default 5 */
  readonly shortAbandonSeconds?: number;
  /**
   * Give what adding up one partial result per Firehose object yields (a contact whose versions
   * were written to n objects counts n times; maxima are unchanged), i.e. what a WFM summing the
   * per-object `*.queue-stats.csv` / `*.agent-queue-stats.csv` files gets. Without it each contact
   * counts once. @default false
   */
  readonly perObject?: boolean;
}

/** Expected queue statistics row (same fields as the mapper's). */
export interface QueueStatsTruthRow {
  readonly interval_start: string;
  readonly interval_minutes: number;
  readonly queue_id: string;
  readonly queue_name: string;
  readonly talking_call_dur: number;
  readonly wrap_up_dur: number;
  readonly overflow_in_call_cnt: number;
  readonly overflow_out_call_cnt: number;
  readonly aband_call_cnt: number;
  readonly answ_call_cnt: number;
  readonly queued_and_answ_call_dur: number;
  readonly queued_and_aband_call_dur: number;
  readonly queued_answ_longest_que_dur: number;
  readonly queued_aband_longest_que_dur: number;
  readonly ans_servicelevel_cnt: number;
  readonly aband_short_call_cnt: number;
  readonly aband_within_sl_cnt: number;
}

/** Expected agent-queue statistics row. */
export interface AgentQueueStatsTruthRow {
  readonly interval_start: string;
  readonly interval_minutes: number;
  readonly queue_id: string;
  readonly agent_username: string;
  readonly talking_call_dur: number;
  readonly wrap_up_dur: number;
  readonly answ_call_cnt: number;
  readonly transfer_out_call_cnt: number;
}

/** Expected agent performance figures for one agent and 30-minute interval. */
export interface AgentPerformanceTruthRow {
  /** `2026-12-06T08:00:00Z`. */
  readonly interval_start: string;
  readonly agent_username: string;
  /** Seconds in any status but Offline. */
  readonly onlineSeconds: number;
  /** Seconds in a custom (non-productive) status. */
  readonly nonProductiveSeconds: number;
  /** Seconds Available with no contact. */
  readonly idleSeconds: number;
}
