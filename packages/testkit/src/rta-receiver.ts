/**
 * A local Teleopti WFM RTA receiver: an HTTP(S) server on 127.0.0.1 that behaves as one generation
 * of the RTA web service (docs/teleopti-rta.md#server-generations): `current` (queue, answer 200,
 * apply later), `synchronous` and `snapshot-id`. It records what it applies (per-user history with
 * times, the final view, dropped states) and has fault switches for the daemon's tests.
 */

import { EventEmitter } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { listenOnLoopback } from './ports.js';

/** State code (and description) the server gives an agent that a snapshot logs out. */
export const RTA_SNAPSHOT_LOGGED_OUT_STATE = 'CCC Logged out';
/** Authentication key of a receiver started without `authenticationKey`. */
export const DEFAULT_RTA_AUTHENTICATION_KEY = 'testkit-rta-authentication-key';
/** Longest state code the server accepts. */
export const RTA_MAX_STATE_CODE_LENGTH = 300;
/**
 * Most states of the oldest (array-body) server generation, which this receiver does not emulate.
 * Kept for compatibility; no mode of the receiver enforces it.
 */
export const RTA_LEGACY_MAX_BATCH_SIZE = 50;
/** Queued batches from which a current server answers "State queue is flooded". */
export const RTA_FLOOD_THRESHOLD = 100;
/** How often a current server re-checks its queue length for the flood answer, in ms. */
export const RTA_FLOOD_CHECK_INTERVAL_MS = 3000;

/** The 500 a synchronous server answers after applying a snapshot when no state group is logged-out. */
export const RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE = 'No Logged out StateGroup found';

/** The server's answer to a wrong or missing authentication key (400). */
export const RTA_INVALID_KEY_MESSAGE =
  'You supplied an invalid authentication key. Please verify the key and try again.';

/** What .NET says when the server meets a duplicate user code in a batch (500, some versions). */
export const RTA_DUPLICATE_USER_CODE_MESSAGE = 'Sequence contains more than one matching element';

/** What ASP.NET says when the body is not JSON or lacks `States` (500: a null reference). */
export const RTA_NULL_REFERENCE_MESSAGE = 'Object reference not set to an instance of an object.';

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

/**
 * The `No person found` message of a synchronous server.
 *
 * @example
 * rtaNoPersonFoundMessage('ghost', 3, '1'); // 'No person found for UserCode ghost, DataSourceId 3, SourceId 1'
 */
export function rtaNoPersonFoundMessage(
  userCode: string,
  dataSourceId: number,
  sourceId: string,
): string {
  return `No person found for UserCode ${userCode}, DataSourceId ${dataSourceId}, SourceId ${sourceId}`;
}

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

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly exceptionType = 'Exception',
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

interface HeldRequest {
  res: ServerResponse;
  path: string;
  body: unknown;
  record: RtaRequestRecord;
}

interface ParsedState {
  userCode: string;
  stateCode: string;
  stateDescription: string | undefined;
}

interface QueuedBatch {
  endpoint: 'batch' | 'change';
  sourceId: string;
  isSnapshot: boolean;
  states: ParsedState[];
  receivedAt: Date;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A malformed body: ASP.NET binds no model and the controller meets a null reference (500). */
function nullReference(): HttpFailure {
  return new HttpFailure(500, RTA_NULL_REFERENCE_MESSAGE, 'NullReferenceException');
}

function optionalString(obj: Record<string, unknown>, field: string): string | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw nullReference();
  return v;
}

/** A snapshot id as the snapshot-id generation reads it: a date-time, or none when unparsable. */
function parseSnapshotId(v: unknown): number | undefined {
  // V8's Date.parse takes almost anything ("snapshot-1"); a .NET date-time starts with a digit.
  if (typeof v !== 'string' || !/^\s*\d/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isFinite(at) ? at : undefined;
}

/**
 * A running RTA receiver. Start one with {@link startRtaReceiver}; stop it with {@link RtaReceiver.stop}.
 *
 * @example
 * const rta = await startRtaReceiver({ authenticationKey: 'k', sourceIds: ['1'] });
 * await fetch(`${rta.url}/Rta/State/Batch`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ AuthenticationKey: 'k', SourceId: '1', IsSnapshot: false,
 *     States: [{ UserCode: 'agent.a', StateCode: 'Available', StateDescription: 'Available' }] }),
 * });
 * await rta.settled();
 * rta.stateOf('agent.a')?.stateCode; // 'Available'
 * await rta.stop();
 */
export class RtaReceiver extends EventEmitter<RtaReceiverEvents> {
  /** Base URL to give a client, e.g. `http://127.0.0.1:41234` (plus `basePath`). */
  readonly url: string;
  /** The port chosen at start (kept across `refuseConnections()` / `acceptConnections()`). */
  readonly port: number;
  /** The key requests must carry. */
  readonly authenticationKey: string;
  /** Configured source ids. */
  readonly sourceIds: readonly string[];
  /** The server generation emulated. */
  readonly mode: RtaServerMode;
  /** Compatibility: true in `snapshot-id` mode. */
  readonly legacy: boolean;
  /** Every applied batch, in applied order. */
  readonly batches: RtaReceivedBatch[] = [];
  /** Every snapshot-id snapshot closed. */
  readonly closedSnapshots: RtaClosedSnapshot[] = [];
  /** Every request seen, whatever the outcome. */
  readonly requests: RtaRequestRecord[] = [];
  /** Every state applied (snapshot log-outs included), in applied order, all agents. */
  readonly applied: RtaAppliedState[] = [];
  /** Current mode: every state the worker dropped (unknown user, unknown source), in order. */
  readonly dropped: RtaDroppedState[] = [];

  readonly #server: Server;
  readonly #basePath: string;
  readonly #dataSourceIds: ReadonlyMap<string, number>;
  readonly #knownUsers: ReadonlyMap<string, string> | undefined;
  readonly #rejectDuplicates: boolean;
  readonly #loggedOutCodes: ReadonlySet<string>;
  readonly #initialStateCodes: readonly string[];
  readonly #maxBodyBytes: number;
  readonly #workerIntervalMs: number;
  readonly #workerOrder: 'arrival' | 'reverse' | 'random';
  readonly #random: () => number;
  readonly #floodThreshold: number;
  readonly #floodCheckIntervalMs: number;
  /** source id → lower-case user code → state. */
  readonly #agents = new Map<string, Map<string, RtaAgentState>>();
  /** snapshot-id mode: source id → lower-case user code → last snapshot id (ms). */
  readonly #seenInSnapshot = new Map<string, Map<string, number>>();
  readonly #stateCodes = new Map<string, string>();
  readonly #held: HeldRequest[] = [];
  readonly #queue: QueuedBatch[] = [];
  readonly #settledWaiters: (() => void)[] = [];
  #workerTimer: NodeJS.Timeout | undefined;
  #workerPaused = false;
  #floodCheckedAt = Number.NEGATIVE_INFINITY;
  #floodedQueue = 0;
  #floodRemaining = 0;
  #floodQueueSize = 0;
  #stallRemaining = 0;
  #failRemaining = 0;
  #failUntil = 0;
  #failStatus = 500;
  #failMessage = 'An error has occurred.';
  #failHeaders: Readonly<Record<string, string>> = {};
  #answerDelayMs: number;
  #badKey = false;
  #listening = true;
  #stopped = false;

  /** @internal Use {@link startRtaReceiver}. */
  constructor(server: Server, port: number, options: RtaReceiverOptions) {
    super();
    this.#server = server;
    this.port = port;
    this.#basePath = (options.basePath ?? '').replace(/\/+$/, '');
    if (this.#basePath !== '' && !this.#basePath.startsWith('/')) {
      this.#basePath = `/${this.#basePath}`;
    }
    const scheme = options.tls ? 'https' : 'http';
    this.url = `${scheme}://127.0.0.1:${port}${this.#basePath}`;
    this.authenticationKey = options.authenticationKey ?? DEFAULT_RTA_AUTHENTICATION_KEY;
    this.sourceIds = [...(options.sourceIds ?? ['1'])];
    this.mode =
      options.mode ??
      (options.legacy ? 'snapshot-id' : options.rejectUnknownUsers ? 'synchronous' : 'current');
    this.legacy = this.mode === 'snapshot-id';
    this.#dataSourceIds = new Map(
      this.sourceIds.map((id, i) => [id, options.dataSourceIds?.[id] ?? i + 1]),
    );
    this.#knownUsers = options.knownUsers
      ? new Map(options.knownUsers.map((u) => [u.toLowerCase(), u]))
      : undefined;
    this.#rejectDuplicates = options.rejectDuplicateUserCodes ?? this.mode !== 'current';
    this.#loggedOutCodes = new Set(
      (options.loggedOutStateCodes ?? ['LOGGED-OFF', RTA_SNAPSHOT_LOGGED_OUT_STATE]).map((c) =>
        c.toLowerCase(),
      ),
    );
    this.#initialStateCodes = options.stateCodes ?? [];
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
    this.#workerIntervalMs = options.worker?.intervalMs ?? 0;
    this.#workerOrder = options.worker?.order ?? 'arrival';
    this.#random = options.worker?.random ?? Math.random;
    this.#floodThreshold = options.floodThreshold ?? RTA_FLOOD_THRESHOLD;
    this.#floodCheckIntervalMs = options.floodCheckIntervalMs ?? RTA_FLOOD_CHECK_INTERVAL_MS;
    this.#answerDelayMs = options.answerDelayMs ?? 0;
    this.#resetStateCodes();
    server.on('request', (req, res) => {
      this.#onRequest(req, res);
    });
  }

  /**
   * The current state of an agent (user code matched case-insensitively), or undefined.
   *
   * @param sourceId defaults to the first configured source id.
   * @example
   * expect(rta.stateOf('agent.a')?.stateCode).toBe('Available');
   */
  stateOf(userCode: string, sourceId: string = this.#defaultSource()): RtaAgentState | undefined {
    return this.#agents.get(sourceId)?.get(userCode.toLowerCase());
  }

  /**
   * A copy of the current state of every agent of a source, keyed by user code.
   *
   * @param sourceId defaults to the first configured source id.
   * @example
   * const loggedIn = [...rta.states().values()].filter((s) => s.stateCode !== 'LOGGED-OFF');
   */
  states(sourceId: string = this.#defaultSource()): Map<string, RtaAgentState> {
    return new Map([...(this.#agents.get(sourceId)?.values() ?? [])].map((s) => [s.userCode, s]));
  }

  /**
   * The final view: user code → registered state code of every agent of a source.
   *
   * @example
   * expect(Object.fromEntries(rta.finalView())).toEqual({ 'agent.a': 'Available' });
   */
  finalView(sourceId: string = this.#defaultSource()): Map<string, string> {
    return new Map([...this.states(sourceId)].map(([u, s]) => [u, s.stateCode]));
  }

  /**
   * The states applied to one agent (case-insensitive), in applied order, with receive and apply
   * times; snapshot log-outs included.
   *
   * @example
   * expect(rta.historyOf('agent.a').map((s) => s.stateCode)).toEqual(['Available', 'Break']);
   */
  historyOf(userCode: string, sourceId: string = this.#defaultSource()): RtaAppliedState[] {
    const key = userCode.toLowerCase();
    return this.applied.filter((s) => s.sourceId === sourceId && s.userCode.toLowerCase() === key);
  }

  /**
   * Every registered state code (pre-registered and received), in registration order and casing.
   *
   * @example
   * expect(rta.stateCodes()).toContain('Available');
   */
  stateCodes(): string[] {
    return [...this.#stateCodes.values()];
  }

  /** Every state in applied batches, in applied order (a flat view of `batches`). */
  receivedStates(): RtaReceivedState[] {
    return this.batches.flatMap((b) => b.states);
  }

  /** Current mode: batches answered 200 and not applied yet. */
  queuedBatches(): number {
    return this.#queue.length;
  }

  /**
   * Current mode: stop the worker (batches queue up, e.g. to reach the flood threshold) until
   * `resumeWorker()`.
   *
   * @example
   * rta.pauseWorker();
   */
  pauseWorker(): void {
    this.#workerPaused = true;
    if (this.#workerTimer) clearTimeout(this.#workerTimer);
    this.#workerTimer = undefined;
  }

  /**
   * Current mode: restart the worker; queued batches are applied in the configured order.
   *
   * @example
   * rta.resumeWorker();
   * await rta.settled();
   */
  resumeWorker(): void {
    this.#workerPaused = false;
    this.#scheduleWorker();
  }

  /**
   * Resolves when no batch is queued (current mode; at once in the others).
   *
   * @example
   * await client.sendStates(states);
   * await rta.settled();
   */
  async settled(timeoutMs = 10_000): Promise<void> {
    if (this.#queue.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#settledWaiters.indexOf(done);
        if (at >= 0) this.#settledWaiters.splice(at, 1);
        reject(
          new Error(
            `RTA receiver: ${this.#queue.length} batch(es) still queued after ${timeoutMs} ms${this.#workerPaused ? ' (the worker is paused)' : ''}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#settledWaiters.push(done);
    });
  }

  /**
   * Back-pressure switch: answer 500 `State queue is flooded with N batches` to the next `n`
   * requests that pass validation (`true`: until `flood(false)`; `false`: stop now).
   *
   * @param queueSize the N in the message.
   * @example
   * rta.flood(3); // the next three valid batches get 500, the fourth is accepted
   */
  flood(n: number | boolean, queueSize = 5000): void {
    this.#floodRemaining = n === true ? Number.POSITIVE_INFINITY : n === false ? 0 : n;
    this.#floodQueueSize = queueSize;
  }

  /**
   * Stall switch: read the next `n` requests but never answer them (`true`: every request until
   * `stall(false)`). Un-stalling answers the held requests whose client is still connected, in
   * order; `stop()` closes them.
   *
   * @example
   * rta.stall(true);
   * rta.stall(false);
   */
  stall(n: number | boolean): void {
    this.#stallRemaining = n === true ? Number.POSITIVE_INFINITY : n === false ? 0 : n;
    if (this.#stallRemaining === 0) this.#releaseHeld();
  }

  /** Number of requests currently held by `stall()` whose client is still connected. */
  stalledCount(): number {
    return this.#held.length;
  }

  /**
   * Answer the next `n` requests with `status` and `message` before any validation (0 stops).
   * A 400 is answered as `{"Message": message}`, other statuses as an ASP.NET error body.
   *
   * @example
   * rta.failNext(2, 503, 'Service Unavailable', { 'retry-after': '1' });
   */
  failNext(
    n: number,
    status = 500,
    message = 'An error has occurred.',
    headers: Readonly<Record<string, string>> = {},
  ): void {
    this.#failRemaining = n;
    this.#failStatus = status;
    this.#failMessage = message;
    this.#failHeaders = { ...headers };
  }

  /**
   * Answer every request with `status` (default 500) for the next `ms` milliseconds (0 stops).
   *
   * @example
   * rta.failFor(60_000); // an outage of a minute
   */
  failFor(ms: number, status = 500, message = 'An error has occurred.'): void {
    this.#failUntil = ms > 0 ? Date.now() + ms : 0;
    this.#failStatus = status;
    this.#failMessage = message;
    this.#failHeaders = {};
  }

  /**
   * Wait `ms` after reading each request before handling it (0 stops).
   *
   * @example
   * rta.setAnswerDelay(300);
   */
  setAnswerDelay(ms: number): void {
    this.#answerDelayMs = Math.max(0, ms);
  }

  /**
   * While on, every key is wrong: requests get 400 `You supplied an invalid authentication key…`.
   *
   * @example
   * rta.setBadKey(true);
   */
  setBadKey(on: boolean): void {
    this.#badKey = on;
  }

  /**
   * Stop listening and drop every open connection: clients get "connection refused" until
   * `acceptConnections()`. Held (stalled) requests are dropped.
   *
   * @example
   * await rta.refuseConnections();
   * await rta.acceptConnections(); // same port, same url
   */
  async refuseConnections(): Promise<void> {
    if (!this.#listening || this.#stopped) return;
    this.#listening = false;
    this.#dropHeld();
    await this.#closeServer();
  }

  /**
   * Listen again on the same port after `refuseConnections()`.
   *
   * @example
   * await rta.acceptConnections();
   */
  async acceptConnections(): Promise<void> {
    if (this.#listening || this.#stopped) return;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#listening = true;
  }

  /**
   * Resolves once at least `count` batches have been applied (counted since start or `reset()`).
   *
   * @example
   * await rta.waitForBatches(3, 5_000);
   */
  async waitForBatches(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.batches.length >= count) return;
    await new Promise<void>((resolve, reject) => {
      const onBatch = () => {
        if (this.batches.length >= count) {
          clearTimeout(timer);
          this.off('batch', onBatch);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.off('batch', onBatch);
        reject(
          new Error(
            `RTA receiver: timed out after ${timeoutMs} ms waiting for ${count} batches (got ${this.batches.length})`,
          ),
        );
      }, timeoutMs);
      this.on('batch', onBatch);
    });
  }

  /**
   * Forgets every record, agent state, received state code, queued batch and open snapshot, and
   * turns every fault switch off (held requests are released). Configuration stays.
   *
   * @example
   * rta.reset();
   */
  reset(): void {
    this.batches.length = 0;
    this.closedSnapshots.length = 0;
    this.requests.length = 0;
    this.applied.length = 0;
    this.dropped.length = 0;
    this.#queue.length = 0;
    this.#notifySettled();
    this.#agents.clear();
    this.#seenInSnapshot.clear();
    this.#resetStateCodes();
    this.#floodRemaining = 0;
    this.#failRemaining = 0;
    this.#failUntil = 0;
    this.#badKey = false;
    this.#answerDelayMs = 0;
    this.#floodCheckedAt = Number.NEGATIVE_INFINITY;
    this.#floodedQueue = 0;
    this.stall(false);
  }

  /**
   * Stops the server: closes every connection, including idle keep-alive ones and requests held
   * by `stall()`; queued batches are applied first. Never hangs; calling it twice is harmless.
   *
   * @example
   * afterAll(() => rta.stop());
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stallRemaining = 0;
    if (this.#workerTimer) clearTimeout(this.#workerTimer);
    this.#workerTimer = undefined;
    this.#runWorker();
    this.#dropHeld();
    if (this.#listening) {
      this.#listening = false;
      await this.#closeServer();
    }
  }

  #dropHeld(): void {
    for (const held of this.#held.splice(0)) {
      held.record.status = 'dropped';
      held.res.destroy();
    }
  }

  async #closeServer(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
    });
    this.#server.closeAllConnections();
    await closed;
  }

  #defaultSource(): string {
    return this.sourceIds[0] ?? '1';
  }

  #resetStateCodes(): void {
    this.#stateCodes.clear();
    for (const code of this.#initialStateCodes) this.#registerStateCode(code);
  }

  #registerStateCode(code: string): string {
    const key = code.toLowerCase();
    const known = this.#stateCodes.get(key);
    if (known !== undefined) return known;
    this.#stateCodes.set(key, code);
    return code;
  }

  #isLoggedOut(state: RtaAgentState): boolean {
    return state.loggedOutBySnapshot || this.#loggedOutCodes.has(state.stateCode.toLowerCase());
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.#maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('error', () => {
      res.destroy();
    });
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const record: RtaRequestRecord = {
        receivedAt: new Date(),
        method: req.method ?? 'GET',
        path,
        status: 0,
        stateCount: 0,
      };
      this.requests.push(record);
      if (tooLarge) {
        this.#answer(res, record, new HttpFailure(413, 'The request body is too large.'));
        return;
      }
      let body: unknown;
      try {
        body = this.#parseBody(req, Buffer.concat(chunks, size));
        if (isRecord(body) && Array.isArray(body.States)) record.stateCount = body.States.length;
      } catch (err) {
        this.#answer(res, record, err);
        return;
      }
      const go = () => {
        if (res.destroyed) {
          record.status = 'dropped';
          this.emit('request', record);
          return;
        }
        if (this.#stallRemaining > 0) {
          this.#stallRemaining -= 1;
          record.status = 'stalled';
          const held: HeldRequest = { res, path, body, record };
          this.#held.push(held);
          res.once('close', () => {
            const at = this.#held.indexOf(held);
            if (at < 0) return;
            this.#held.splice(at, 1);
            record.status = 'dropped';
            this.emit('request', record);
          });
          return;
        }
        this.#handle(res, path, body, record);
      };
      if (this.#answerDelayMs > 0) setTimeout(go, this.#answerDelayMs);
      else go();
    });
  }

  #parseBody(req: IncomingMessage, raw: Buffer): unknown {
    if (req.method !== 'POST') {
      throw new HttpFailure(405, 'The requested resource does not support http method.');
    }
    const type = req.headers['content-type'] ?? '';
    if (!JSON_TYPE.test(type)) {
      throw new HttpFailure(
        415,
        `The request entity's media type '${type}' is not supported for this resource.`,
      );
    }
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      // ASP.NET binds no model from invalid JSON; the controller then dereferences null.
      throw nullReference();
    }
  }

  #releaseHeld(): void {
    for (const held of this.#held.splice(0)) {
      if (held.res.destroyed || held.res.socket === null || held.res.socket.destroyed) {
        held.record.status = 'dropped';
        this.emit('request', held.record);
        continue;
      }
      this.#handle(held.res, held.path, held.body, held.record);
    }
  }

  #handle(res: ServerResponse, path: string, body: unknown, record: RtaRequestRecord): void {
    const route = path.toLowerCase();
    const base = this.#basePath.toLowerCase();
    const isClose = route === `${base}/rta/state/closesnapshot`;
    let afterAnswer: (() => void) | undefined;
    try {
      if (this.#failRemaining > 0 || Date.now() < this.#failUntil) {
        if (this.#failRemaining > 0) this.#failRemaining -= 1;
        throw new HttpFailure(this.#failStatus, this.#failMessage, 'Exception', this.#failHeaders);
      }
      if (route === `${base}/rta/state/batch`) afterAnswer = this.#batch(body, 'batch', record);
      else if (route === `${base}/rta/state/change`) {
        afterAnswer = this.#batch(body, 'change', record);
      } else if (this.mode === 'snapshot-id' && isClose) {
        try {
          this.#close(body, record);
        } catch (err) {
          // CloseSnapshot's errors, the key's included, come back as 500.
          if (err instanceof HttpFailure && err.status === 400) {
            throw new HttpFailure(500, err.message, err.exceptionType);
          }
          throw err;
        }
        record.status = 204;
        res.writeHead(204);
        res.end();
        this.emit('request', record);
        return;
      } else
        throw new HttpFailure(
          404,
          `No HTTP resource was found that matches the request URI '${path}'.`,
        );
      this.#answer(res, record, undefined);
    } catch (err) {
      this.#answer(res, record, err);
    }
    afterAnswer?.();
  }

  #answer(res: ServerResponse, record: RtaRequestRecord, err: unknown): void {
    if (err === undefined) {
      record.status = 200;
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      this.emit('request', record);
      return;
    }
    const failure =
      err instanceof HttpFailure ? err : new HttpFailure(500, String(err), 'InternalError');
    record.status = failure.status;
    record.message = failure.message;
    const payload =
      failure.status < 500
        ? { Message: failure.message }
        : {
            Message: 'An error has occurred.',
            ExceptionMessage: failure.message,
            ExceptionType: failure.exceptionType,
            StackTrace: null,
          };
    const text = JSON.stringify(payload);
    res.writeHead(failure.status, {
      ...failure.headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
    this.emit('request', record);
  }

  #checkKey(body: Record<string, unknown>): void {
    if (this.#badKey || body.AuthenticationKey !== this.authenticationKey) {
      throw new HttpFailure(400, RTA_INVALID_KEY_MESSAGE, 'InvalidAuthenticationKeyException');
    }
  }

  /** Synchronous servers validate the source inside the request. */
  #checkSource(body: Record<string, unknown>): string {
    const source = body.SourceId;
    if (source === undefined || source === null || source === '') {
      throw new HttpFailure(400, 'Source id is required', 'InvalidSourceException');
    }
    if (typeof source !== 'string') throw nullReference();
    if (!this.sourceIds.includes(source)) {
      throw new HttpFailure(400, `Source id "${source}" not found`, 'InvalidSourceException');
    }
    return source;
  }

  #parseStates(body: Record<string, unknown>, endpoint: 'batch' | 'change'): ParsedState[] {
    const one = (item: Record<string, unknown>): ParsedState => {
      const userCode = item.UserCode;
      if (userCode !== undefined && userCode !== null && typeof userCode !== 'string') {
        throw nullReference();
      }
      const stateCode = item.StateCode;
      if (stateCode === undefined || stateCode === null) {
        throw new HttpFailure(500, 'State code is required', 'InvalidStateCodeException');
      }
      if (typeof stateCode !== 'string') throw nullReference();
      if (stateCode.length > RTA_MAX_STATE_CODE_LENGTH) {
        throw new HttpFailure(
          500,
          'State code can not exceed 300 characters (including platform type id)',
          'InvalidStateCodeException',
        );
      }
      // The snapshot-id generation's state model has no description.
      const stateDescription =
        this.mode === 'snapshot-id' ? undefined : optionalString(item, 'StateDescription');
      return { userCode: userCode ?? '', stateCode, stateDescription };
    };
    if (endpoint === 'change') return [one(body)];
    const list = body.States;
    if (!Array.isArray(list)) throw nullReference();
    return list.map((item: unknown) => {
      if (!isRecord(item)) throw nullReference();
      return one(item);
    });
  }

  /** Handles a batch request; returns what to do after the answer was written. */
  #batch(
    body: unknown,
    endpoint: 'batch' | 'change',
    record: RtaRequestRecord,
  ): (() => void) | undefined {
    if (!isRecord(body)) throw nullReference();
    const isSnapshotRaw = body.IsSnapshot;
    if (isSnapshotRaw !== undefined && isSnapshotRaw !== null && typeof isSnapshotRaw !== 'boolean')
      throw nullReference();
    if (this.mode === 'current') {
      // Key and state codes are checked in the request; the rest is the worker's business.
      this.#checkKey(body);
      const states = this.#parseStates(body, endpoint);
      this.#checkFlood();
      const sourceId = typeof body.SourceId === 'string' ? body.SourceId : '';
      this.#queue.push({
        endpoint,
        sourceId,
        isSnapshot: isSnapshotRaw === true && endpoint === 'batch',
        states,
        receivedAt: record.receivedAt,
      });
      return () => this.#scheduleWorker();
    }
    const states = this.#parseStates(body, endpoint);
    this.#checkKey(body);
    const sourceId = this.#checkSource(body);
    if (this.#floodRemaining > 0) {
      this.#floodRemaining -= 1;
      throw this.#floodFailure(this.#floodQueueSize);
    }
    if (this.#rejectDuplicates) {
      const seen = new Set<string>();
      for (const s of states) {
        const key = s.userCode.toLowerCase();
        if (seen.has(key)) {
          throw new HttpFailure(500, RTA_DUPLICATE_USER_CODE_MESSAGE, 'InvalidOperationException');
        }
        seen.add(key);
      }
    }
    const snapshotAt =
      this.mode === 'snapshot-id' && endpoint === 'batch'
        ? parseSnapshotId(body.SnapshotId)
        : undefined;
    const snapshotIdText = snapshotAt === undefined ? undefined : String(body.SnapshotId);
    const isSnapshot =
      this.mode === 'synchronous' && isSnapshotRaw === true && endpoint === 'batch';
    const unknown = states.filter((s) => this.#personOf(s.userCode) === undefined);
    const known = states.filter((s) => this.#personOf(s.userCode) !== undefined);
    // Known users' states are applied before any error is raised, as the server does.
    let status = 200;
    let failure: HttpFailure | undefined;
    const first = unknown[0];
    if (first !== undefined) {
      status = 400;
      failure = new HttpFailure(
        400,
        rtaNoPersonFoundMessage(first.userCode, this.#dataSourceIds.get(sourceId) ?? 0, sourceId),
        'InvalidUserCodeException',
      );
    } else if (isSnapshot && this.#loggedOutCodes.size === 0) {
      status = 500;
      failure = new HttpFailure(500, RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE, 'ArgumentException');
    }
    const queued: QueuedBatch = {
      endpoint,
      sourceId,
      isSnapshot: isSnapshot && failure === undefined,
      states: known,
      receivedAt: record.receivedAt,
    };
    this.#apply(queued, status, snapshotAt, snapshotIdText);
    if (failure) throw failure;
    return undefined;
  }

  #floodFailure(n: number): HttpFailure {
    return new HttpFailure(
      500,
      `State queue is flooded with ${n} batches`,
      'StateQueueHealthException',
    );
  }

  /** Current mode: the flood answer, from the switch or the queue length checked every 3 s. */
  #checkFlood(): void {
    if (this.#floodRemaining > 0) {
      this.#floodRemaining -= 1;
      throw this.#floodFailure(this.#floodQueueSize);
    }
    const now = Date.now();
    if (now - this.#floodCheckedAt >= this.#floodCheckIntervalMs) {
      this.#floodCheckedAt = now;
      this.#floodedQueue = this.#queue.length;
    }
    if (this.#floodedQueue >= this.#floodThreshold) throw this.#floodFailure(this.#floodedQueue);
  }

  /** The known user's spelling of a user code, `undefined` when it has no person. */
  #personOf(userCode: string): string | undefined {
    if (userCode === '') return undefined;
    if (!this.#knownUsers) return userCode;
    return this.#knownUsers.get(userCode.toLowerCase());
  }

  #scheduleWorker(): void {
    if (this.#workerPaused || this.#stopped || this.#queue.length === 0) return;
    if (this.#workerIntervalMs === 0) {
      this.#runWorker();
      return;
    }
    if (this.#workerTimer) return;
    this.#workerTimer = setTimeout(() => {
      this.#workerTimer = undefined;
      this.#runWorker();
    }, this.#workerIntervalMs);
  }

  #runWorker(): void {
    const taken = this.#queue.splice(0);
    if (this.#workerOrder === 'reverse') taken.reverse();
    else if (this.#workerOrder === 'random') {
      for (let i = taken.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        [taken[i], taken[j]] = [taken[j] as QueuedBatch, taken[i] as QueuedBatch];
      }
    }
    for (const batch of taken) this.#work(batch);
    this.#notifySettled();
  }

  #notifySettled(): void {
    if (this.#queue.length > 0) return;
    for (const done of this.#settledWaiters.splice(0)) done();
  }

  /** Current mode: what the worker does with one queued batch. */
  #work(batch: QueuedBatch): void {
    const now = new Date();
    const drop = (states: ParsedState[], reason: RtaDropReason) => {
      if (states.length === 0) return;
      const list = states.map(
        (s): RtaDroppedState => ({
          userCode: s.userCode,
          stateCode: s.stateCode,
          sourceId: batch.sourceId,
          reason,
          receivedAt: batch.receivedAt,
          droppedAt: now,
        }),
      );
      // A loop, not push(...list): a spread of a very large list overflows the stack.
      for (const d of list) this.dropped.push(d);
      this.emit('dropped', list);
    };
    if (!this.sourceIds.includes(batch.sourceId)) {
      drop(batch.states, 'unknown-source');
      return;
    }
    if (this.#knownUsers === undefined && batch.states.every((s) => s.userCode !== '')) {
      this.#apply(batch, 200, undefined, undefined);
      return;
    }
    drop(
      batch.states.filter((s) => this.#personOf(s.userCode) === undefined),
      'unknown-user',
    );
    const known = batch.states.filter((s) => this.#personOf(s.userCode) !== undefined);
    this.#apply({ ...batch, states: known }, 200, undefined, undefined);
  }

  #apply(
    batch: QueuedBatch,
    status: number,
    snapshotAt: number | undefined,
    snapshotIdText: string | undefined,
  ): void {
    const now = new Date();
    const { sourceId } = batch;
    let agents = this.#agents.get(sourceId);
    if (!agents) {
      agents = new Map();
      this.#agents.set(sourceId, agents);
    }
    const index = this.batches.length;
    const received: RtaReceivedState[] = [];
    const present = new Set<string>();
    for (const s of batch.states) {
      const userCode = this.#personOf(s.userCode) ?? s.userCode;
      const key = userCode.toLowerCase();
      const previous = agents.get(key);
      const state: RtaAgentState = {
        userCode: previous?.userCode ?? userCode,
        sourceId,
        stateCode: this.#registerStateCode(s.stateCode),
        stateDescription: s.stateDescription ?? '',
        receivedAt: batch.receivedAt,
        appliedAt: now,
        loggedOutBySnapshot: false,
      };
      agents.set(key, state);
      present.add(key);
      this.applied.push({ ...state, batchIndex: index, isSnapshot: batch.isSnapshot });
      const r: RtaReceivedState = { userCode: s.userCode, stateCode: s.stateCode };
      if (s.stateDescription !== undefined) r.stateDescription = s.stateDescription;
      if (snapshotIdText !== undefined) r.snapshotId = snapshotIdText;
      received.push(r);
      if (snapshotAt !== undefined) {
        let seen = this.#seenInSnapshot.get(sourceId);
        if (!seen) {
          seen = new Map();
          this.#seenInSnapshot.set(sourceId, seen);
        }
        seen.set(key, snapshotAt);
      }
    }
    // Without a logged-out state group a current server logs nobody out.
    const loggedOut =
      batch.isSnapshot && this.#loggedOutCodes.size > 0
        ? this.#logOutAllBut(sourceId, present, now, index, batch.receivedAt)
        : [];
    const applied: RtaReceivedBatch = {
      index,
      receivedAt: batch.receivedAt,
      appliedAt: now,
      endpoint: batch.endpoint,
      isSnapshot: batch.isSnapshot,
      sourceId,
      states: received,
      loggedOut,
      status,
    };
    this.batches.push(applied);
    this.emit('batch', applied);
  }

  #logOutAllBut(
    sourceId: string,
    present: ReadonlySet<string>,
    now: Date,
    batchIndex: number,
    receivedAt: Date,
  ): string[] {
    const loggedOut: string[] = [];
    const agents = this.#agents.get(sourceId);
    if (!agents) return loggedOut;
    const code = this.#registerStateCode(RTA_SNAPSHOT_LOGGED_OUT_STATE);
    for (const [key, state] of agents) {
      if (present.has(key) || this.#isLoggedOut(state)) continue;
      const next: RtaAgentState = {
        userCode: state.userCode,
        sourceId,
        stateCode: code,
        stateDescription: RTA_SNAPSHOT_LOGGED_OUT_STATE,
        receivedAt,
        appliedAt: now,
        loggedOutBySnapshot: true,
      };
      agents.set(key, next);
      this.applied.push({ ...next, batchIndex, isSnapshot: true });
      loggedOut.push(state.userCode);
    }
    return loggedOut;
  }

  /** snapshot-id mode: `CloseSnapshot` logs out every agent of the source not seen with that id. */
  #close(body: unknown, record: RtaRequestRecord): void {
    if (!isRecord(body)) throw nullReference();
    this.#checkKey(body);
    const sourceId = this.#checkSource(body);
    const snapshotAt = parseSnapshotId(body.SnapshotId);
    if (snapshotAt === undefined) throw nullReference();
    if (this.#loggedOutCodes.size === 0) {
      throw new HttpFailure(500, RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE, 'ArgumentException');
    }
    const now = new Date();
    const seen = this.#seenInSnapshot.get(sourceId);
    const present = new Set<string>();
    for (const [key, at] of seen ?? []) if (at === snapshotAt) present.add(key);
    const closed: RtaClosedSnapshot = {
      receivedAt: record.receivedAt,
      sourceId,
      snapshotId: String(body.SnapshotId),
      loggedOut: this.#logOutAllBut(sourceId, present, now, -1, record.receivedAt),
    };
    this.closedSnapshots.push(closed);
    this.emit('closeSnapshot', closed);
  }
}

/**
 * Starts an RTA receiver on 127.0.0.1 with a port chosen by the kernel.
 *
 * @example
 * const rta = await startRtaReceiver({ mode: 'synchronous', knownUsers: ['agent.a'] });
 * // point a client at rta.url with rta.authenticationKey and source id '1'
 * await rta.stop();
 */
export async function startRtaReceiver(options: RtaReceiverOptions = {}): Promise<RtaReceiver> {
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert })
    : createHttpServer();
  const port = await listenOnLoopback(server);
  return new RtaReceiver(server, port, options);
}
