/**
 * A local Teleopti WFM RTA receiver: an HTTP(S) server on 127.0.0.1 that behaves as the RTA web
 * service described in `shared/reference/teleopti-rta-api.md` (`POST /Rta/State/Batch`,
 * `POST /Rta/State/Change`, and in legacy mode `POST /Rta/State/CloseSnapshot`), records what it
 * accepts, keeps the current state per agent, and has fault switches (flood, stall, failNext).
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
/** Most states an older (legacy) server accepts in one batch. */
export const RTA_LEGACY_MAX_BATCH_SIZE = 50;

/**
 * The server's failure when closing a snapshot would log agents out but no state group is flagged
 * as logged-out (500: an exception on the server, not one of its 400 answers).
 */
export const RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE = 'No Logged out StateGroup found';

/** The server's answer to a wrong or missing authentication key (400). */
export const RTA_INVALID_KEY_MESSAGE =
  'You supplied an invalid authentication key. Please verify the key and try again.';

/** Options of {@link startRtaReceiver}. */
export interface RtaReceiverOptions {
  /**
   * The key every request must carry in `AuthenticationKey`.
   * @default DEFAULT_RTA_AUTHENTICATION_KEY
   */
  authenticationKey?: string;
  /**
   * Source ids configured on the server; any other `SourceId` is answered 400 `Source id "X" not found`.
   * @default ['1']
   */
  sourceIds?: readonly string[];
  /**
   * User codes (ACD logins) that have a person on the server. Only used when
   * `rejectUnknownUsers` is true.
   */
  knownUsers?: readonly string[];
  /**
   * Older-server behaviour: answer 400 `No person found for UserCode …` when a batch carries a
   * user code that is not in `knownUsers`. Current servers accept such states and drop them later.
   * @default false
   */
  rejectUnknownUsers?: boolean;
  /**
   * State codes registered up front (others are registered when first received, as the server does).
   * @default []
   */
  stateCodes?: readonly string[];
  /**
   * State codes (case-insensitive) in the server's logged-out state group: an agent in one of them
   * (or logged out by an earlier snapshot) is "already logged out" and a snapshot does not touch it.
   * `[]` means no state group is flagged as logged-out: closing a snapshot that would log an agent
   * out then fails with 500 `No Logged out StateGroup found` and changes nothing.
   * @default ['LOGGED-OFF', 'CCC Logged out']
   */
  loggedOutStateCodes?: readonly string[];
  /**
   * Emulate an older server: at most 50 states per batch, per-state `SnapshotId`, snapshots closed by
   * `POST /Rta/State/CloseSnapshot`; `IsSnapshot` is ignored.
   * @default false
   */
  legacy?: boolean;
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
  /** `StateCode` as sent (before case-insensitive matching). */
  stateCode: string;
  /** `StateDescription` as sent, if any. */
  stateDescription?: string;
  /** Legacy `SnapshotId` of this state (per state, or the batch's), if any. */
  snapshotId?: string;
}

/** A batch the receiver accepted (answered 200). */
export interface RtaReceivedBatch {
  /** 0-based position among accepted batches since start or the last `reset()`. */
  index: number;
  /** When the request body had been read. */
  receivedAt: Date;
  /** `batch` for `/Rta/State/Batch`, `change` for `/Rta/State/Change`. */
  endpoint: 'batch' | 'change';
  /** `IsSnapshot` as sent (always false for `change`). */
  isSnapshot: boolean;
  /** `SourceId` of the batch. */
  sourceId: string;
  /** The states in the order sent. */
  states: RtaReceivedState[];
  /** User codes this request logged out by closing a snapshot (empty unless a snapshot). */
  loggedOut: string[];
}

/** A legacy snapshot closed by `POST /Rta/State/CloseSnapshot`. */
export interface RtaClosedSnapshot {
  /** When the close request was read. */
  receivedAt: Date;
  /** Source whose agents were considered. */
  sourceId: string;
  /** The closed snapshot. */
  snapshotId: string;
  /** User codes that were logged out because they were not seen in that snapshot. */
  loggedOut: string[];
}

/** The current state of one agent on the receiver. */
export interface RtaAgentState {
  /** The agent's user code. */
  userCode: string;
  /** Source the state came from. */
  sourceId: string;
  /** Registered state code (the casing under which the code was first registered). */
  stateCode: string;
  /** Description as last sent (or `CCC Logged out` when logged out by a snapshot). */
  stateDescription: string;
  /** When the state was set. */
  receivedAt: Date;
  /** True when the state was set by closing a snapshot rather than received. */
  loggedOutBySnapshot: boolean;
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
  /** A batch was accepted. */
  batch: [RtaReceivedBatch];
  /** A request was answered (any status) or dropped. */
  request: [RtaRequestRecord];
  /** A legacy snapshot was closed. */
  closeSnapshot: [RtaClosedSnapshot];
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
  stateCode: unknown;
  stateDescription: string | undefined;
  snapshotId: string | undefined;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(detail: string): HttpFailure {
  return new HttpFailure(400, `The request is invalid: ${detail}`);
}

function optionalString(obj: Record<string, unknown>, field: string, where: string) {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${where}${field} must be a string`);
  return v;
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
 * rta.stateOf('agent.a')?.stateCode; // 'Available'
 * await rta.stop();
 */
export class RtaReceiver extends EventEmitter<RtaReceiverEvents> {
  /** Base URL to give a client, e.g. `http://127.0.0.1:41234` (plus `basePath`). */
  readonly url: string;
  /** The port chosen at start. */
  readonly port: number;
  /** The key requests must carry. */
  readonly authenticationKey: string;
  /** Configured source ids. */
  readonly sourceIds: readonly string[];
  /** Whether this receiver emulates an older server. */
  readonly legacy: boolean;
  /** Every accepted batch, in arrival order. */
  readonly batches: RtaReceivedBatch[] = [];
  /** Every legacy snapshot closed. */
  readonly closedSnapshots: RtaClosedSnapshot[] = [];
  /** Every request seen, whatever the outcome. */
  readonly requests: RtaRequestRecord[] = [];

  readonly #server: Server;
  readonly #basePath: string;
  readonly #knownUsers: ReadonlySet<string> | undefined;
  readonly #rejectUnknownUsers: boolean;
  readonly #loggedOutCodes: ReadonlySet<string>;
  readonly #initialStateCodes: readonly string[];
  readonly #maxBodyBytes: number;
  readonly #agents = new Map<string, Map<string, RtaAgentState>>();
  readonly #stateCodes = new Map<string, string>();
  readonly #legacySnapshots = new Map<string, Map<string, Set<string>>>();
  readonly #held: HeldRequest[] = [];
  #floodRemaining = 0;
  #floodQueueSize = 0;
  #stallRemaining = 0;
  #failRemaining = 0;
  #failStatus = 500;
  #failMessage = 'An error has occurred.';
  #failHeaders: Readonly<Record<string, string>> = {};
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
    this.legacy = options.legacy ?? false;
    this.#knownUsers = options.knownUsers ? new Set(options.knownUsers) : undefined;
    this.#rejectUnknownUsers = options.rejectUnknownUsers ?? false;
    this.#loggedOutCodes = new Set(
      (options.loggedOutStateCodes ?? ['LOGGED-OFF', RTA_SNAPSHOT_LOGGED_OUT_STATE]).map((c) =>
        c.toLowerCase(),
      ),
    );
    this.#initialStateCodes = options.stateCodes ?? [];
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
    this.#resetStateCodes();
    server.on('request', (req, res) => {
      this.#onRequest(req, res);
    });
  }

  /**
   * The current state of an agent, or undefined if the receiver never had one.
   *
   * @param sourceId defaults to the first configured source id.
   * @example
   * expect(rta.stateOf('agent.a')?.stateCode).toBe('Available');
   */
  stateOf(userCode: string, sourceId: string = this.#defaultSource()): RtaAgentState | undefined {
    return this.#agents.get(sourceId)?.get(userCode);
  }

  /**
   * A copy of the current state of every agent of a source, keyed by user code.
   *
   * @param sourceId defaults to the first configured source id.
   * @example
   * const loggedIn = [...rta.states().values()].filter((s) => s.stateCode !== 'LOGGED-OFF');
   */
  states(sourceId: string = this.#defaultSource()): Map<string, RtaAgentState> {
    return new Map(this.#agents.get(sourceId) ?? []);
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

  /** Every state received in accepted batches, in arrival order (a flat view of `batches`). */
  receivedStates(): RtaReceivedState[] {
    return this.batches.flatMap((b) => b.states);
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
   * // … a client times out or aborts …
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
   * `headers` are added to those answers (e.g. `{ 'retry-after': '2' }`, as a proxy or IIS in
   * front of the service may send with a 503).
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
   * Resolves once at least `count` batches have been accepted (counted since start or `reset()`).
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
   * Forgets every record, agent state, received state code and open legacy snapshot, and turns
   * every fault switch off (held requests are released). Configuration stays.
   *
   * @example
   * rta.reset();
   */
  reset(): void {
    this.batches.length = 0;
    this.closedSnapshots.length = 0;
    this.requests.length = 0;
    this.#agents.clear();
    this.#legacySnapshots.clear();
    this.#resetStateCodes();
    this.#floodRemaining = 0;
    this.#failRemaining = 0;
    this.stall(false);
  }

  /**
   * Stops the server: closes every connection, including idle keep-alive ones and requests held
   * by `stall()`. Never hangs; calling it twice is harmless.
   *
   * @example
   * afterAll(() => rta.stop());
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stallRemaining = 0;
    for (const held of this.#held.splice(0)) {
      held.record.status = 'dropped';
      held.res.destroy();
    }
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

  /**
   * Closing a snapshot puts the absent agents in the logged-out state group; without one the server
   * fails (`No Logged out StateGroup found`). Checked before anything changes.
   */
  #assertCanClose(sourceId: string, present: ReadonlySet<string>): void {
    if (this.#loggedOutCodes.size > 0) return;
    const agents = this.#agents.get(sourceId);
    if (!agents) return;
    for (const [userCode, state] of agents) {
      if (!present.has(userCode) && !this.#isLoggedOut(state)) {
        throw new HttpFailure(500, RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE, 'ArgumentException');
      }
    }
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
      throw invalid('the body is not valid JSON');
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
    try {
      if (this.#failRemaining > 0) {
        this.#failRemaining -= 1;
        throw new HttpFailure(this.#failStatus, this.#failMessage, 'Exception', this.#failHeaders);
      }
      const route = path.toLowerCase();
      const base = this.#basePath.toLowerCase();
      if (route === `${base}/rta/state/batch`) this.#batch(body, 'batch');
      else if (route === `${base}/rta/state/change`) this.#batch(body, 'change');
      else if (this.legacy && route === `${base}/rta/state/closesnapshot`) this.#close(body);
      else
        throw new HttpFailure(
          404,
          `No HTTP resource was found that matches the request URI '${path}'.`,
        );
      this.#answer(res, record, undefined);
    } catch (err) {
      this.#answer(res, record, err);
    }
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

  #authenticate(body: Record<string, unknown>): string {
    if (body.AuthenticationKey !== this.authenticationKey) {
      throw new HttpFailure(400, RTA_INVALID_KEY_MESSAGE, 'InvalidAuthenticationKeyException');
    }
    const source = body.SourceId;
    if (source === undefined || source === null || source === '') {
      throw new HttpFailure(400, 'Source id is required', 'InvalidSourceException');
    }
    if (typeof source !== 'string') throw invalid('SourceId must be a string');
    if (!this.sourceIds.includes(source)) {
      throw new HttpFailure(400, `Source id "${source}" not found`, 'InvalidSourceException');
    }
    return source;
  }

  #parseStates(body: Record<string, unknown>, endpoint: 'batch' | 'change'): ParsedState[] {
    if (endpoint === 'change') {
      const userCode = body.UserCode;
      if (typeof userCode !== 'string' || userCode === '') throw invalid('UserCode is required');
      return [
        {
          userCode,
          stateCode: body.StateCode,
          stateDescription: optionalString(body, 'StateDescription', ''),
          snapshotId: optionalString(body, 'SnapshotId', ''),
        },
      ];
    }
    const list = body.States;
    if (!Array.isArray(list)) throw invalid('States must be an array');
    const batchSnapshotId = optionalString(body, 'SnapshotId', '');
    return list.map((item: unknown, i): ParsedState => {
      const where = `States[${i}].`;
      if (!isRecord(item)) throw invalid(`States[${i}] must be an object`);
      const userCode = item.UserCode;
      if (typeof userCode !== 'string' || userCode === '') {
        throw invalid(`${where}UserCode is required`);
      }
      const stateCode = item.StateCode;
      if (stateCode !== undefined && stateCode !== null && typeof stateCode !== 'string') {
        throw invalid(`${where}StateCode must be a string`);
      }
      return {
        userCode,
        stateCode,
        stateDescription: optionalString(item, 'StateDescription', where),
        snapshotId: optionalString(item, 'SnapshotId', where) ?? batchSnapshotId,
      };
    });
  }

  #batch(body: unknown, endpoint: 'batch' | 'change'): void {
    if (!isRecord(body)) throw invalid('the body must be a JSON object');
    const isSnapshotRaw = body.IsSnapshot;
    if (
      endpoint === 'batch' &&
      isSnapshotRaw !== undefined &&
      isSnapshotRaw !== null &&
      typeof isSnapshotRaw !== 'boolean'
    ) {
      throw invalid('IsSnapshot must be true or false');
    }
    const parsed = this.#parseStates(body, endpoint);
    const sourceId = this.#authenticate(body);
    if (this.legacy && parsed.length > RTA_LEGACY_MAX_BATCH_SIZE) {
      throw invalid(
        `a batch may hold at most ${RTA_LEGACY_MAX_BATCH_SIZE} states, this one has ${parsed.length}`,
      );
    }
    if (this.#rejectUnknownUsers && this.#knownUsers) {
      const unknown = parsed.find((s) => !this.#knownUsers?.has(s.userCode));
      if (unknown) {
        throw new HttpFailure(
          400,
          `No person found for UserCode ${unknown.userCode}, SourceId ${sourceId}`,
          'InvalidUserCodeException',
        );
      }
    }
    const states: RtaReceivedState[] = parsed.map((s) => {
      if (typeof s.stateCode !== 'string' || s.stateCode === '') {
        throw new HttpFailure(500, 'State code is required', 'InvalidStateCodeException');
      }
      if (s.stateCode.length > RTA_MAX_STATE_CODE_LENGTH) {
        throw new HttpFailure(
          500,
          'State code can not exceed 300 characters (including platform type id)',
          'InvalidStateCodeException',
        );
      }
      const state: RtaReceivedState = { userCode: s.userCode, stateCode: s.stateCode };
      if (s.stateDescription !== undefined) state.stateDescription = s.stateDescription;
      if (s.snapshotId !== undefined) state.snapshotId = s.snapshotId;
      return state;
    });
    if (this.#floodRemaining > 0) {
      this.#floodRemaining -= 1;
      throw new HttpFailure(
        500,
        `State queue is flooded with ${this.#floodQueueSize} batches`,
        'StateQueueHealthException',
      );
    }
    const isSnapshot = isSnapshotRaw === true && endpoint === 'batch';
    if (isSnapshot && !this.legacy) {
      this.#assertCanClose(sourceId, new Set(states.map((s) => s.userCode)));
    }
    this.#accept(endpoint, sourceId, isSnapshot, states);
  }

  #accept(
    endpoint: 'batch' | 'change',
    sourceId: string,
    isSnapshot: boolean,
    states: RtaReceivedState[],
  ): void {
    const now = new Date();
    let agents = this.#agents.get(sourceId);
    if (!agents) {
      agents = new Map();
      this.#agents.set(sourceId, agents);
    }
    for (const s of states) {
      agents.set(s.userCode, {
        userCode: s.userCode,
        sourceId,
        stateCode: this.#registerStateCode(s.stateCode),
        stateDescription: s.stateDescription ?? '',
        receivedAt: now,
        loggedOutBySnapshot: false,
      });
      if (this.legacy && s.snapshotId !== undefined) {
        let snapshots = this.#legacySnapshots.get(sourceId);
        if (!snapshots) {
          snapshots = new Map();
          this.#legacySnapshots.set(sourceId, snapshots);
        }
        let seen = snapshots.get(s.snapshotId);
        if (!seen) {
          seen = new Set();
          snapshots.set(s.snapshotId, seen);
        }
        seen.add(s.userCode);
      }
    }
    let loggedOut: string[] = [];
    if (isSnapshot && !this.legacy) {
      loggedOut = this.#logOutAllBut(sourceId, new Set(states.map((s) => s.userCode)), now);
    }
    const batch: RtaReceivedBatch = {
      index: this.batches.length,
      receivedAt: now,
      endpoint,
      isSnapshot,
      sourceId,
      states,
      loggedOut,
    };
    this.batches.push(batch);
    this.emit('batch', batch);
  }

  #logOutAllBut(sourceId: string, present: ReadonlySet<string>, now: Date): string[] {
    const loggedOut: string[] = [];
    const agents = this.#agents.get(sourceId);
    if (!agents) return loggedOut;
    const code = this.#registerStateCode(RTA_SNAPSHOT_LOGGED_OUT_STATE);
    for (const [userCode, state] of agents) {
      if (present.has(userCode) || this.#isLoggedOut(state)) continue;
      agents.set(userCode, {
        userCode,
        sourceId,
        stateCode: code,
        stateDescription: RTA_SNAPSHOT_LOGGED_OUT_STATE,
        receivedAt: now,
        loggedOutBySnapshot: true,
      });
      loggedOut.push(userCode);
    }
    return loggedOut;
  }

  #close(body: unknown): void {
    if (!isRecord(body)) throw invalid('the body must be a JSON object');
    const snapshotId = body.SnapshotId;
    if (snapshotId !== undefined && snapshotId !== null && typeof snapshotId !== 'string') {
      throw invalid('SnapshotId must be a string');
    }
    const sourceId = this.#authenticate(body);
    if (snapshotId === undefined || snapshotId === null || snapshotId === '') {
      throw invalid('Snapshot id is required');
    }
    if (this.#floodRemaining > 0) {
      this.#floodRemaining -= 1;
      throw new HttpFailure(
        500,
        `State queue is flooded with ${this.#floodQueueSize} batches`,
        'StateQueueHealthException',
      );
    }
    const now = new Date();
    const snapshots = this.#legacySnapshots.get(sourceId);
    const seen = snapshots?.get(snapshotId) ?? new Set<string>();
    this.#assertCanClose(sourceId, seen);
    snapshots?.delete(snapshotId);
    const closed: RtaClosedSnapshot = {
      receivedAt: now,
      sourceId,
      snapshotId,
      loggedOut: this.#logOutAllBut(sourceId, seen, now),
    };
    this.closedSnapshots.push(closed);
    this.emit('closeSnapshot', closed);
  }
}

/**
 * Starts an RTA receiver on 127.0.0.1 with a port chosen by the kernel.
 *
 * @example
 * const rta = await startRtaReceiver({ legacy: true });
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
