/** The public data shapes of the testkit's RTA receiver: options, records and events. */

/**
 * The server generation a receiver emulates (docs/teleopti-rta.md#server-generations).
 * - `current`: validates key and state codes, queues the batch, answers 200; a worker applies it
 *   later and drops (records in `dropped`) states of unknown users or an unknown source.
 * - `synchronous`: applies the batch inside the request; unknown users → 400 after the known
 *   users' states were applied; a snapshot without a logged-out state group → 500 after applying.
 * - `snapshot-id`: synchronous, top-level `SnapshotId` on each chunk and
 *   `POST Rta/State/CloseSnapshot` (204; its errors are 500).
 */
export type RtaServerMode = 'current' | 'synchronous' | 'snapshot-id';

/** Options of the current server's background worker. */
export interface RtaWorkerOptions {
  /**
   * How often the worker takes the queued batches, in ms. 0 applies each batch right after its
   * 200 was written (before the client can read it), which keeps simple tests deterministic.
   * @default 0
   */
  intervalMs?: number;
  /**
   * In which order the worker applies the batches queued since its last run: `arrival`,
   * `reverse` (newest first: the worst case of "no guaranteed order") or `random`.
   * @default 'arrival'
   */
  order?: 'arrival' | 'reverse' | 'random';
  /** Random source for `order: 'random'`. @default Math.random */
  random?: () => number;
}

/** Options of {@link startRtaReceiver}. */
export interface RtaReceiverOptions {
  /**
   * Server generation to emulate. Default: `snapshot-id` with `legacy: true`, `synchronous` with
   * `rejectUnknownUsers: true`, else `current`.
   */
  mode?: RtaServerMode;
  /**
   * The key every request must carry in `AuthenticationKey`.
   * @default DEFAULT_RTA_AUTHENTICATION_KEY
   */
  authenticationKey?: string;
  /**
   * Source ids configured on the server. Another `SourceId`: 400 on synchronous servers, states
   * dropped by the worker on current ones.
   * @default ['1']
   */
  sourceIds?: readonly string[];
  /**
   * Internal data source number of each source id (the `DataSourceId N` of "No person found").
   * @default source id at index i → i + 1
   */
  dataSourceIds?: Readonly<Record<string, number>>;
  /**
   * User codes (ACD logins, matched case-insensitively) that have a person on the server.
   * Unset: every user code has one.
   */
  knownUsers?: readonly string[];
  /** Compatibility: `true` selects `mode: 'synchronous'` when `mode` is not given. */
  rejectUnknownUsers?: boolean;
  /**
   * Fail a batch that carries one user code twice (500 `Sequence contains more than one matching
   * element`, nothing applied), as some older versions do.
   * @default true for `synchronous` and `snapshot-id`, false for `current` (the last one wins)
   */
  rejectDuplicateUserCodes?: boolean;
  /**
   * State codes registered up front (others are registered when first received, as the server does).
   * @default []
   */
  stateCodes?: readonly string[];
  /**
   * State codes (case-insensitive) of the server's logged-out state group. `[]` means no state
   * group is flagged as logged-out: current servers then log nobody out on a snapshot;
   * synchronous ones apply the snapshot's states and answer 500 `No Logged out StateGroup found`.
   * @default ['LOGGED-OFF', 'CCC Logged out']
   */
  loggedOutStateCodes?: readonly string[];
  /** Compatibility: `true` selects `mode: 'snapshot-id'` when `mode` is not given. */
  legacy?: boolean;
  /** Current mode: the background worker. */
  worker?: RtaWorkerOptions;
  /**
   * Current mode: queued batches from which requests get 500 `State queue is flooded`.
   * @default RTA_FLOOD_THRESHOLD (100)
   */
  floodThreshold?: number;
  /**
   * Current mode: how often the queue length is re-checked for the flood answer, in ms.
   * @default RTA_FLOOD_CHECK_INTERVAL_MS (3000)
   */
  floodCheckIntervalMs?: number;
  /**
   * Wait this long after reading a request before handling it, in ms (see `setAnswerDelay`).
   * @default 0
   */
  answerDelayMs?: number;
  /**
   * Path prefix the endpoints live under, e.g. `/TeleoptiWFM/Web`. Routes are matched
   * case-insensitively, as ASP.NET does.
   * @default ''
   */
  basePath?: string;
  /**
   * Serve HTTPS with this key and certificate (PEM) instead of plain HTTP.
   * @default undefined (HTTP)
   */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * Largest request body accepted; larger ones get 413.
   * @default 64 MiB
   */
  maxBodyBytes?: number;
}

/** One state as received in a batch. */
export interface RtaReceivedState {
  /** `UserCode` as sent. */
  userCode: string;
  /** `StateCode` as sent (before case-insensitive matching; `''` is accepted). */
  stateCode: string;
  /** `StateDescription` as sent, if any. */
  stateDescription?: string;
  /** `SnapshotId` of the batch (snapshot-id mode), if any. */
  snapshotId?: string;
}

/** A batch the receiver applied (fully, or partly before a synchronous 400/500). */
export interface RtaReceivedBatch {
  /** 0-based position among applied batches since start or the last `reset()` (applied order). */
  index: number;
  /** When the request body had been read. */
  receivedAt: Date;
  /** When the states were applied (current mode: by the worker, after the 200). */
  appliedAt: Date;
  /** `batch` for `/Rta/State/Batch`, `change` for `/Rta/State/Change`. */
  endpoint: 'batch' | 'change';
  /** `IsSnapshot` as sent (always false for `change` and in snapshot-id mode). */
  isSnapshot: boolean;
  /** `SourceId` of the batch. */
  sourceId: string;
  /** The states applied, in the order sent (states of unknown users are left out). */
  states: RtaReceivedState[];
  /** User codes this request logged out by closing a snapshot (empty unless a snapshot). */
  loggedOut: string[];
  /** Status answered for the request (200; 400/500 when a synchronous server applied part of it). */
  status: number;
}

/** A snapshot-id mode snapshot closed by `POST /Rta/State/CloseSnapshot`. */
export interface RtaClosedSnapshot {
  /** When the close request was read. */
  receivedAt: Date;
  /** Source whose agents were considered. */
  sourceId: string;
  /** The closed snapshot, as sent. */
  snapshotId: string;
  /** User codes that were logged out because they were not seen in that snapshot. */
  loggedOut: string[];
}

/** The current state of one agent on the receiver. */
export interface RtaAgentState {
  /** The agent's user code (the known user's spelling, else the first one received). */
  userCode: string;
  /** Source the state came from. */
  sourceId: string;
  /** Registered state code (the casing under which the code was first registered). */
  stateCode: string;
  /** Description as last sent (or `CCC Logged out` when logged out by a snapshot). */
  stateDescription: string;
  /** When the request carrying the state was read. */
  receivedAt: Date;
  /** When the state was applied. */
  appliedAt: Date;
  /** True when the state was set by closing a snapshot rather than received. */
  loggedOutBySnapshot: boolean;
}

/** One entry of an agent's history: a state applied, in applied order. */
export interface RtaAppliedState extends RtaAgentState {
  /** `index` of the batch that applied it (-1 for a snapshot-id CloseSnapshot). */
  batchIndex: number;
  /** Whether the applying request was a snapshot. */
  isSnapshot: boolean;
}

/** Why a current server's worker dropped a state. */
export type RtaDropReason = 'unknown-user' | 'unknown-source';

/** A state the current server accepted (200) and its worker dropped later. */
export interface RtaDroppedState {
  /** `UserCode` as sent. */
  userCode: string;
  /** `StateCode` as sent. */
  stateCode: string;
  /** `SourceId` as sent (`''` when missing). */
  sourceId: string;
  /** Why it was dropped. */
  reason: RtaDropReason;
  /** When the request was read. */
  receivedAt: Date;
  /** When the worker dropped it. */
  droppedAt: Date;
}

/** One HTTP request as the receiver saw it, whatever the outcome. */
export interface RtaRequestRecord {
  /** When the body had been read. */
  receivedAt: Date;
  /** HTTP method. */
  method: string;
  /** Request path (without query). */
  path: string;
  /**
   * Status answered; `stalled` while held by `stall()`, `dropped` when the client went away while
   * the request was held.
   */
  status: number | 'stalled' | 'dropped';
  /** Error message answered, if any. */
  message?: string;
  /** Number of states in the body, when it could be read. */
  stateCount: number;
}

/** Events emitted by {@link RtaReceiver}. */
export interface RtaReceiverEvents {
  /** A batch was applied. */
  batch: [RtaReceivedBatch];
  /** A request was answered (any status) or dropped. */
  request: [RtaRequestRecord];
  /** A snapshot-id snapshot was closed. */
  closeSnapshot: [RtaClosedSnapshot];
  /** The current server's worker dropped states. */
  dropped: [RtaDroppedState[]];
}
