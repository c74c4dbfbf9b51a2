/**
 * Public types of `@connect-wfm/rta-delta-collapser`.
 */

/**
 * One agent's state as the WFM (Teleopti RTA) receives it. The same shape is used by
 * `@connect-wfm/teleopti-rta-client`.
 */
export interface RtaState {
  /** The agent's Amazon Connect username (`CurrentAgentSnapshot.Configuration.Username`). */
  userCode: string;
  /** The state code the WFM maps to a state group (at most 300 characters, never empty). */
  stateCode: string;
  /** Human-readable description of the state code. */
  stateDescription: string;
}

/** A state code with its description, as configured in the mapping table. */
export interface StateMapping {
  /** The state code sent to the WFM (1–300 characters). */
  stateCode: string;
  /** The description sent with it. */
  stateDescription: string;
}

/**
 * What an agent is doing on a contact, derived from the Connect contact `State`s:
 * `CONNECTED` → `OnContact`; `CONNECTED_ONHOLD` → `OnHold`; `CONNECTING`, `INCOMING`,
 * `PENDING` → `Offered`; `ENDED` → `AfterContactWork`; `MISSED`, `ERROR`, `REJECTED` →
 * `Missed`. Listed from highest to lowest precedence.
 */
export type ContactActivity = 'OnContact' | 'OnHold' | 'Offered' | 'AfterContactWork' | 'Missed';

/** Options of the state derivation (docs/rta-state-rules.md#deriving-the-state). */
export interface DeriveOptions {
  /**
   * `contact-aware` derives `OnContact`, `OnHold`, … from the agent's contacts before falling
   * back to the agent status; `status-only` skips the contacts (username, status name/ARN only).
   * @default 'contact-aware'
   */
  mode?: 'contact-aware' | 'status-only';
  /**
   * Where the state code of an agent status comes from: its `Name` or its `ARN`. The
   * description is always the status name.
   * @default 'name'
   */
  stateCodeFrom?: 'name' | 'arn';
  /**
   * Append the contact's channel to contact-derived codes (`OnContact:VOICE`). The description
   * is not changed. A contact without a `Channel` gets no suffix.
   * @default false
   */
  includeChannel?: boolean;
  /**
   * Agent status names that mean "signed off" (compared case-insensitively). An agent in one of
   * them is logged out, as is a `LOGOUT` event or a status whose `Type` is `OFFLINE`.
   * @default ['Offline']
   */
  signedOffStatusNames?: readonly string[];
  /**
   * The state sent for a logged-out agent.
   * @default { stateCode: 'LOGGED-OFF', stateDescription: 'Logged out' }
   */
  loggedOut?: Partial<StateMapping>;
  /**
   * The mapping table: code and description per contact activity. Entries (and fields) not
   * given keep their defaults (see `DEFAULT_CONTACT_STATE_MAPPING`).
   * @default DEFAULT_CONTACT_STATE_MAPPING
   */
  contactStates?: Partial<Record<ContactActivity, Partial<StateMapping>>>;
  /**
   * Tie-break between concurrent contacts with the same activity on different channels: the
   * channel listed first wins; channels not listed come after, in alphabetical order; a contact
   * without a channel comes last. Only matters with `includeChannel`.
   * @default ['VOICE', 'CHAT', 'TASK', 'EMAIL']
   */
  channelPrecedence?: readonly string[];
}

/**
 * The logger this package writes to: `@connect-wfm/core`'s `Logger` (`debug`/`info`/`warn`/`error`
 * with a message and a context object; pino, Powertools Logger and `console` fit).
 */
export type { Logger } from '@connect-wfm/core';

import type { Logger } from '@connect-wfm/core';

/** Options of `new RtaDeltaCollapser(options)`. */
export interface RtaDeltaCollapserOptions extends DeriveOptions {
  /**
   * How many recent `EventId`s are remembered to drop duplicates (a ring buffer, globally across
   * agents and shards). About 100 bytes each. `0` disables `EventId` de-duplication (ordering by
   * position still drops replays of an agent's current event).
   * @default 100000
   */
  dedupeWindow?: number;
  /**
   * After a `LOGOUT`, keep the agent logged out until a `LOGIN` event: `HEART_BEAT`s (which
   * Connect keeps sending for up to an hour after a logout) and `STATE_CHANGE`s (a configuration
   * change, say) in between carry the agent's last status, which Connect does not reset at
   * logout (an agent can log out while on `Break` and log back in on `Break`), and would
   * otherwise report a logged-out agent as `Break` or `Available`. `false`: derive every event
   * from its own snapshot.
   * @default true
   */
  stayLoggedOutUntilLogin?: boolean;
  /** Called once for every record that is rejected (in addition to `IngestResult.rejected`). */
  onReject?: (rejection: RejectedRecord) => void;
  /** Receives a `warn` per rejected record and an `error` if `onReject` throws. */
  logger?: Logger;
}

/** One Kinesis record's payload and where it came from. */
export interface AgentEventRecord {
  /** The shard the record was read from (`shardId-000000000000`). */
  shardId: string;
  /** The record's Kinesis sequence number (decimal digits). */
  sequenceNumber: string;
  /** The record's data: one agent event as UTF-8 JSON. */
  data: Uint8Array;
}

/** The part of an AWS SDK v3 Kinesis `_Record` this package reads. */
export interface KinesisRecordLike {
  /** The record's sequence number. */
  SequenceNumber?: string | undefined;
  /** The record's data (one agent event as UTF-8 JSON). */
  Data?: Uint8Array | undefined;
  /** Not used; present on SDK records. */
  PartitionKey?: string | undefined;
  /** Not used; present on SDK records. */
  ApproximateArrivalTimestamp?: Date | undefined;
}

/**
 * A record as `@connect-wfm/kinesis-shard-reader` yields it (`sequenceNumber`, `data`; its other
 * fields are not read).
 */
export interface ReaderRecordLike {
  /** The record's sequence number. */
  readonly sequenceNumber?: string | undefined;
  /** The record's data (one agent event as UTF-8 JSON). */
  readonly data?: Uint8Array | undefined;
}

/**
 * A batch from one shard: a `ShardBatch` of `@connect-wfm/kinesis-shard-reader` (records with
 * `sequenceNumber`/`data`, plus `lastSequenceNumber` and `shardEnded`), or `{ shardId, records }`
 * with AWS SDK `_Record`s (`SequenceNumber`/`Data`). Both record shapes may be mixed.
 */
export interface ShardBatchLike {
  /** The shard the records were read from. */
  readonly shardId: string;
  /** The records, in shard order. */
  readonly records: readonly (ReaderRecordLike | KinesisRecordLike)[];
  /**
   * The reader's last sequence number of the batch (for an empty final batch, the last one read
   * before). When absent, the last record's sequence number is used.
   */
  readonly lastSequenceNumber?: string | null | undefined;
  /** True for a shard's final batch (the reader's `shardEnded`). @default false */
  readonly shardEnded?: boolean | undefined;
}

/**
 * How far the collapser has ingested one shard: the checkpoint position to store together with
 * a delivery's state (it has the fields of the reader's `CheckpointPosition`).
 */
export interface ShardPosition {
  /** The shard. */
  readonly shardId: string;
  /** The last sequence number ingested from it (bad records included), or null when none. */
  readonly lastSequenceNumber: string | null;
  /** True once the shard's final batch was ingested. */
  readonly shardEnded: boolean;
}

/** Options of `beginDelivery`. */
export interface BeginDeliveryOptions {
  /**
   * `true`: the delivery is a snapshot (every known agent, for one `IsSnapshot: true` request);
   * `false`: only the agents whose state differs from what the WFM last accepted.
   * @default false
   */
  readonly snapshot?: boolean;
  /**
   * Also take the state to commit once the WFM accepted the delivery (`delivery.state`). It costs
   * a copy of every agent, so ask for it when a commit is due, not at every poll.
   * @default true
   */
  readonly exportState?: boolean;
}

/**
 * What one POST must carry and what to commit once the WFM accepted it, taken at one instant
 * (`beginDelivery`): the states, the shard positions they were derived from, and the collapser
 * state in which these states already count as accepted.
 */
export interface RtaDelivery {
  /** Number of this delivery (1, 2, ...), for logs. */
  readonly id: number;
  /** `'snapshot'`: post `states` as one `IsSnapshot: true` request; `'delta'`: an ordinary batch. */
  readonly kind: 'snapshot' | 'delta';
  /** The states to post, one per agent, sorted by `userCode`. May be empty. */
  readonly states: readonly RtaState[];
  /** Per shard, how far the records behind `states` reach: checkpoint these with `state`. */
  readonly positions: readonly ShardPosition[];
  /**
   * The collapser state to commit together with `positions` after the WFM accepted `states`
   * (these states count as accepted in it); `undefined` when not asked for.
   */
  readonly state: ExportedCollapserState | undefined;
}

/** An event whose `EventType` is not one Connect documents; it was still applied. */
export interface UnknownEventTypeRecord {
  /** The shard the record came from. */
  shardId: string;
  /** Its sequence number. */
  sequenceNumber: string;
  /** The event's `EventId`, when it has one. */
  eventId?: string;
  /** The `EventType` found (at most 100 characters of it). */
  eventType: string;
}

/** Why a record was rejected. */
export type RejectionKind =
  | 'missing-data'
  | 'invalid-sequence-number'
  | 'invalid-utf8'
  | 'invalid-json'
  | 'missing-username'
  | 'invalid-event'
  | 'invalid-state-code';

/** A record that is not a usable agent event: reported, skipped, never thrown. */
export interface RejectedRecord {
  /** The shard the record came from. */
  shardId: string;
  /** Its sequence number (as given, possibly empty when the SDK record had none). */
  sequenceNumber: string;
  /** The event's `EventId` when the JSON could be read and had one. */
  eventId?: string;
  /** The category of the problem. */
  kind: RejectionKind;
  /** What is wrong, e.g. `CurrentAgentSnapshot.Configuration.Username: expected string`. */
  reason: string;
}

/** What `ingest` did with a batch of records. */
export interface IngestResult {
  /** Events that became their agent's newest event (their state is the agent's current state). */
  accepted: number;
  /**
   * Events dropped as duplicates: an `EventId` seen within the dedupe window, or a record at
   * exactly the position (timestamp, shard, sequence number) of the agent's current event.
   */
  duplicates: number;
  /**
   * Events older than the agent's newest event (they never overwrite it; a late `LOGOUT` or
   * `LOGIN` still counts for `stayLoggedOutUntilLogin`).
   */
  stale: number;
  /** Agents whose current (code, description) changed in this batch. */
  changed: number;
  /** Records that are not usable agent events, in input order. */
  rejected: RejectedRecord[];
  /**
   * Usable events whose `EventType` is not `LOGIN`, `LOGOUT`, `STATE_CHANGE` or `HEART_BEAT`.
   * They are derived from their `CurrentAgentSnapshot` like any event (and counted in `accepted`,
   * `duplicates` or `stale`); this list is for reporting.
   */
  unknownEventTypes: UnknownEventTypeRecord[];
}

/** Where the event that produced an agent's current state sits in the stream. */
export interface EventPosition {
  /** The event's `EventTimestamp` (ISO 8601, millisecond precision). */
  eventTimestamp: string;
  /** The shard it was read from. */
  shardId: string;
  /** Its sequence number in that shard. */
  sequenceNumber: string;
}

/** One agent in an exported state. */
export interface ExportedAgentState {
  /** The agent's username. */
  userCode: string;
  /** The agent's newest derived state (may still be pending). */
  current: StateMapping;
  /** What the WFM last accepted for the agent, or `null` if nothing yet. */
  accepted: StateMapping | null;
  /**
   * The position of the agent's newest applied event (the one that produced `current`, or a later
   * one that left it unchanged), or `null` if none (set via `markAccepted`).
   */
  position: EventPosition | null;
  /**
   * The state derived from the newest event, when it differs from `current` (the agent is logged
   * out by a `LOGOUT` that waits for a `LOGIN`, see `stayLoggedOutUntilLogin`).
   */
  derived?: StateMapping;
  /** The newest `LOGOUT` seen (with `stayLoggedOutUntilLogin`). Absent in older files. */
  lastLogout?: EventPosition;
  /** The newest `LOGIN` seen (with `stayLoggedOutUntilLogin`). Absent in older files. */
  lastLogin?: EventPosition;
}

/** The JSON-serialisable state of a collapser (`exportState()` / `importState()`). */
export interface ExportedCollapserState {
  /**
   * Format version: `exportState` writes `2`; `importState` also reads `1` (written before
   * `derived`, `lastLogout` and `lastLogin` existed). Releases before version 2 cannot read it.
   */
  version: 1 | 2;
  /** Every known agent, sorted by `userCode`. */
  agents: ExportedAgentState[];
}
