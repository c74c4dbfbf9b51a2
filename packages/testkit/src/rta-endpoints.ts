/**
 * What each server generation of the testkit's RTA receiver does with a request whose body was
 * read: the routes (`Rta/State/Batch`, `Rta/State/Change`, snapshot-id's `CloseSnapshot`), the
 * checks in the order the server makes them, and the switches that change the answer (fail,
 * flood, bad key) (docs/teleopti-rta.md#server-generations). Internal to the receiver.
 */

import type { RtaAgentBook } from './rta-agent-book.js';
import {
  RTA_DUPLICATE_USER_CODE_MESSAGE,
  RTA_INVALID_KEY_MESSAGE,
  RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE,
  rtaNoPersonFoundMessage,
} from './rta-protocol.js';
import type { RtaRequestRecord, RtaServerMode } from './rta-receiver-types.js';
import type { RtaStateQueue } from './rta-state-queue.js';
import {
  checkSource,
  floodFailure,
  HttpFailure,
  isRecord,
  nullReference,
  type ParsedState,
  parseSnapshotId,
  parseStates,
  type QueuedBatch,
} from './rta-wire.js';

/**
 * What a handled request asks of the caller: `no-content` (answer 204), or answer 200 and then
 * run the function, if any. Failures are thrown as {@link HttpFailure} (or anything else: 500).
 */
export type RtaHandled = 'no-content' | (() => void) | undefined;

/** The configuration the endpoints need. */
export interface RtaEndpointsOptions {
  mode: RtaServerMode;
  authenticationKey: string;
  sourceIds: readonly string[];
  /** Source id → the `DataSourceId N` of "No person found". */
  dataSourceIds: ReadonlyMap<string, number>;
  rejectDuplicateUserCodes: boolean;
  /** Normalised path prefix (`''` or `/x/y`). */
  basePath: string;
}

/** The receiver's routes and the generations' request handling. */
export class RtaEndpoints {
  /** `failNext`: requests still to fail before any validation. */
  failRemaining = 0;
  /** `failFor`: fail every request until this time (ms since epoch). */
  failUntil = 0;
  failStatus = 500;
  failMessage = 'An error has occurred.';
  failHeaders: Readonly<Record<string, string>> = {};
  /** `flood`: valid requests still to answer with the flood 500. */
  floodRemaining = 0;
  /** `flood`: the N of its message. */
  floodQueueSize = 0;
  /** `setBadKey`: every key is wrong. */
  badKey = false;

  readonly #options: RtaEndpointsOptions;
  readonly #mode: RtaServerMode;
  readonly #book: RtaAgentBook;
  readonly #queue: RtaStateQueue;
  readonly #batchRoute: string;
  readonly #changeRoute: string;
  readonly #closeRoute: string;

  constructor(book: RtaAgentBook, queue: RtaStateQueue, options: RtaEndpointsOptions) {
    this.#book = book;
    this.#queue = queue;
    this.#options = options;
    this.#mode = options.mode;
    const base = options.basePath.toLowerCase();
    this.#batchRoute = `${base}/rta/state/batch`;
    this.#changeRoute = `${base}/rta/state/change`;
    this.#closeRoute = `${base}/rta/state/closesnapshot`;
  }

  /** Turns the fail, flood and bad-key switches off. */
  resetSwitches(): void {
    this.floodRemaining = 0;
    this.failRemaining = 0;
    this.failUntil = 0;
    this.badKey = false;
  }

  /** Handles a request (routes matched case-insensitively, as ASP.NET does). */
  handle(path: string, body: unknown, record: RtaRequestRecord): RtaHandled {
    const route = path.toLowerCase();
    if (this.failRemaining > 0 || Date.now() < this.failUntil) {
      if (this.failRemaining > 0) this.failRemaining -= 1;
      throw new HttpFailure(this.failStatus, this.failMessage, 'Exception', this.failHeaders);
    }
    if (route === this.#batchRoute) return this.#batch(body, 'batch', record);
    if (route === this.#changeRoute) return this.#batch(body, 'change', record);
    if (this.#mode === 'snapshot-id' && route === this.#closeRoute) {
      try {
        this.#close(body, record);
      } catch (err) {
        // CloseSnapshot's errors, the key's included, come back as 500.
        if (err instanceof HttpFailure && err.status === 400) {
          throw new HttpFailure(500, err.message, err.exceptionType);
        }
        throw err;
      }
      return 'no-content';
    }
    throw new HttpFailure(
      404,
      `No HTTP resource was found that matches the request URI '${path}'.`,
    );
  }

  #checkKey(body: Record<string, unknown>): void {
    if (this.badKey || body.AuthenticationKey !== this.#options.authenticationKey) {
      throw new HttpFailure(400, RTA_INVALID_KEY_MESSAGE, 'InvalidAuthenticationKeyException');
    }
  }

  #parseStates(body: Record<string, unknown>, endpoint: 'batch' | 'change'): ParsedState[] {
    // The snapshot-id generation's state model has no description.
    return parseStates(body, endpoint, this.#mode !== 'snapshot-id');
  }

  /** Handles a batch request; returns what to do after the answer was written. */
  #batch(body: unknown, endpoint: 'batch' | 'change', record: RtaRequestRecord): RtaHandled {
    if (!isRecord(body)) throw nullReference();
    const isSnapshotRaw = body.IsSnapshot;
    if (isSnapshotRaw !== undefined && isSnapshotRaw !== null && typeof isSnapshotRaw !== 'boolean')
      throw nullReference();
    if (this.#mode === 'current') {
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
      return () => this.#queue.schedule();
    }
    const states = this.#parseStates(body, endpoint);
    this.#checkKey(body);
    const sourceId = checkSource(body, this.#options.sourceIds);
    if (this.floodRemaining > 0) {
      this.floodRemaining -= 1;
      throw floodFailure(this.floodQueueSize);
    }
    if (this.#options.rejectDuplicateUserCodes) {
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
      this.#mode === 'snapshot-id' && endpoint === 'batch'
        ? parseSnapshotId(body.SnapshotId)
        : undefined;
    const snapshotIdText = snapshotAt === undefined ? undefined : String(body.SnapshotId);
    const isSnapshot =
      this.#mode === 'synchronous' && isSnapshotRaw === true && endpoint === 'batch';
    const book = this.#book;
    const unknown = states.filter((s) => book.personOf(s.userCode) === undefined);
    const known = states.filter((s) => book.personOf(s.userCode) !== undefined);
    // Known users' states are applied before any error is raised, as the server does.
    let status = 200;
    let failure: HttpFailure | undefined;
    const first = unknown[0];
    if (first !== undefined) {
      status = 400;
      const dataSourceId = this.#options.dataSourceIds.get(sourceId) ?? 0;
      failure = new HttpFailure(
        400,
        rtaNoPersonFoundMessage(first.userCode, dataSourceId, sourceId),
        'InvalidUserCodeException',
      );
    } else if (isSnapshot && !book.hasLoggedOutGroup) {
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
    book.apply(queued, status, snapshotAt, snapshotIdText);
    if (failure) throw failure;
    return undefined;
  }

  /** Current mode: the flood answer, from the switch or the queue length checked every 3 s. */
  #checkFlood(): void {
    if (this.floodRemaining > 0) {
      this.floodRemaining -= 1;
      throw floodFailure(this.floodQueueSize);
    }
    this.#queue.checkFlood();
  }

  /** snapshot-id mode: `CloseSnapshot` logs out every agent of the source not seen with that id. */
  #close(body: unknown, record: RtaRequestRecord): void {
    if (!isRecord(body)) throw nullReference();
    this.#checkKey(body);
    const sourceId = checkSource(body, this.#options.sourceIds);
    const snapshotAt = parseSnapshotId(body.SnapshotId);
    if (snapshotAt === undefined) throw nullReference();
    if (!this.#book.hasLoggedOutGroup) {
      throw new HttpFailure(500, RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE, 'ArgumentException');
    }
    this.#book.closeSnapshot(sourceId, snapshotAt, String(body.SnapshotId), record.receivedAt);
  }
}
