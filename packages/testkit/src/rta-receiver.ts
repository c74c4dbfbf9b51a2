/**
 * A local Teleopti WFM RTA receiver: an HTTP(S) server on 127.0.0.1 that behaves as one generation
 * of the RTA web service (docs/teleopti-rta.md#server-generations): `current` (queue, answer 200,
 * apply later), `synchronous` and `snapshot-id`. It records what it applies (per-user history with
 * times, the final view, dropped states) and has fault switches for the daemon's tests.
 *
 * This file is the receiver's public face; the work is done by rta-http-intake.ts (reading
 * requests, stall, delay, connections), rta-endpoints.ts (routes and each generation's checks),
 * rta-state-queue.ts (the current generation's queue and worker), rta-agent-book.ts (agents,
 * state codes, records) and rta-wire.ts (parsing, error bodies); public constants live in
 * rta-protocol.ts and public types in rta-receiver-types.ts.
 */

import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { listenOnLoopback } from './ports.js';
import { RtaAgentBook } from './rta-agent-book.js';
import { RtaEndpoints } from './rta-endpoints.js';
import { RtaHttpIntake } from './rta-http-intake.js';
import {
  DEFAULT_RTA_AUTHENTICATION_KEY,
  RTA_FLOOD_CHECK_INTERVAL_MS,
  RTA_FLOOD_THRESHOLD,
  RTA_SNAPSHOT_LOGGED_OUT_STATE,
} from './rta-protocol.js';
import type {
  RtaAgentState,
  RtaAppliedState,
  RtaClosedSnapshot,
  RtaDroppedState,
  RtaReceivedBatch,
  RtaReceivedState,
  RtaReceiverEvents,
  RtaReceiverOptions,
  RtaRequestRecord,
  RtaServerMode,
} from './rta-receiver-types.js';
import { RtaStateQueue } from './rta-state-queue.js';

export * from './rta-protocol.js';
export type * from './rta-receiver-types.js';

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
  readonly batches: RtaReceivedBatch[];
  /** Every snapshot-id snapshot closed. */
  readonly closedSnapshots: RtaClosedSnapshot[];
  /** Every request seen, whatever the outcome. */
  readonly requests: RtaRequestRecord[] = [];
  /** Every state applied (snapshot log-outs included), in applied order, all agents. */
  readonly applied: RtaAppliedState[];
  /** Current mode: every state the worker dropped (unknown user, unknown source), in order. */
  readonly dropped: RtaDroppedState[];

  readonly #book: RtaAgentBook;
  readonly #queue: RtaStateQueue;
  readonly #endpoints: RtaEndpoints;
  readonly #intake: RtaHttpIntake;
  #stopped = false;

  /** @internal Use {@link startRtaReceiver}. */
  constructor(server: Server, port: number, options: RtaReceiverOptions) {
    super();
    this.port = port;
    let basePath = (options.basePath ?? '').replace(/\/+$/, '');
    if (basePath !== '' && !basePath.startsWith('/')) basePath = `/${basePath}`;
    const scheme = options.tls ? 'https' : 'http';
    this.url = `${scheme}://127.0.0.1:${port}${basePath}`;
    this.authenticationKey = options.authenticationKey ?? DEFAULT_RTA_AUTHENTICATION_KEY;
    this.sourceIds = [...(options.sourceIds ?? ['1'])];
    this.mode =
      options.mode ??
      (options.legacy ? 'snapshot-id' : options.rejectUnknownUsers ? 'synchronous' : 'current');
    this.legacy = this.mode === 'snapshot-id';
    this.#book = new RtaAgentBook(this, {
      knownUsers: options.knownUsers,
      loggedOutStateCodes: options.loggedOutStateCodes ?? [
        'LOGGED-OFF',
        RTA_SNAPSHOT_LOGGED_OUT_STATE,
      ],
      stateCodes: options.stateCodes ?? [],
    });
    this.batches = this.#book.batches;
    this.closedSnapshots = this.#book.closedSnapshots;
    this.applied = this.#book.applied;
    this.dropped = this.#book.dropped;
    this.#queue = new RtaStateQueue(this.#book, {
      worker: options.worker,
      floodThreshold: options.floodThreshold ?? RTA_FLOOD_THRESHOLD,
      floodCheckIntervalMs: options.floodCheckIntervalMs ?? RTA_FLOOD_CHECK_INTERVAL_MS,
      sourceIds: this.sourceIds,
    });
    this.#endpoints = new RtaEndpoints(this.#book, this.#queue, {
      mode: this.mode,
      authenticationKey: this.authenticationKey,
      sourceIds: this.sourceIds,
      dataSourceIds: new Map(
        this.sourceIds.map((id, i) => [id, options.dataSourceIds?.[id] ?? i + 1]),
      ),
      rejectDuplicateUserCodes: options.rejectDuplicateUserCodes ?? this.mode !== 'current',
      basePath,
    });
    this.#intake = new RtaHttpIntake(
      server,
      port,
      this,
      this.requests,
      (res, path, body, record) => {
        this.#handle(res, path, body, record);
      },
      {
        maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
        answerDelayMs: options.answerDelayMs ?? 0,
      },
    );
  }

  /**
   * The current state of an agent (user code matched case-insensitively), or undefined.
   *
   * @param sourceId defaults to the first configured source id.
   * @example
   * expect(rta.stateOf('agent.a')?.stateCode).toBe('Available');
   */
  stateOf(userCode: string, sourceId: string = this.#defaultSource()): RtaAgentState | undefined {
    return this.#book.stateOf(userCode, sourceId);
  }

  /**
   * A copy of the current state of every agent of a source, keyed by user code.
   *
   * @param sourceId defaults to the first configured source id.
   * @example
   * const loggedIn = [...rta.states().values()].filter((s) => s.stateCode !== 'LOGGED-OFF');
   */
  states(sourceId: string = this.#defaultSource()): Map<string, RtaAgentState> {
    return this.#book.states(sourceId);
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
    return this.#book.historyOf(userCode, sourceId);
  }

  /**
   * Every registered state code (pre-registered and received), in registration order and casing.
   *
   * @example
   * expect(rta.stateCodes()).toContain('Available');
   */
  stateCodes(): string[] {
    return this.#book.stateCodes();
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
    this.#queue.pause();
  }

  /**
   * Current mode: restart the worker; queued batches are applied in the configured order.
   *
   * @example
   * rta.resumeWorker();
   * await rta.settled();
   */
  resumeWorker(): void {
    this.#queue.resume();
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
    await this.#queue.settled(timeoutMs);
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
    this.#endpoints.floodRemaining = n === true ? Number.POSITIVE_INFINITY : n === false ? 0 : n;
    this.#endpoints.floodQueueSize = queueSize;
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
    this.#intake.stall(n);
  }

  /** Number of requests currently held by `stall()` whose client is still connected. */
  stalledCount(): number {
    return this.#intake.stalledCount;
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
    const switches = this.#endpoints;
    switches.failRemaining = n;
    switches.failStatus = status;
    switches.failMessage = message;
    switches.failHeaders = { ...headers };
  }

  /**
   * Answer every request with `status` (default 500) for the next `ms` milliseconds (0 stops).
   *
   * @example
   * rta.failFor(60_000); // an outage of a minute
   */
  failFor(ms: number, status = 500, message = 'An error has occurred.'): void {
    const switches = this.#endpoints;
    switches.failUntil = ms > 0 ? Date.now() + ms : 0;
    switches.failStatus = status;
    switches.failMessage = message;
    switches.failHeaders = {};
  }

  /**
   * Wait `ms` after reading each request before handling it (0 stops).
   *
   * @example
   * rta.setAnswerDelay(300);
   */
  setAnswerDelay(ms: number): void {
    this.#intake.setAnswerDelay(ms);
  }

  /**
   * While on, every key is wrong: requests get 400 `You supplied an invalid authentication key…`.
   *
   * @example
   * rta.setBadKey(true);
   */
  setBadKey(on: boolean): void {
    this.#endpoints.badKey = on;
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
    await this.#intake.refuseConnections();
  }

  /**
   * Listen again on the same port after `refuseConnections()`.
   *
   * @example
   * await rta.acceptConnections();
   */
  async acceptConnections(): Promise<void> {
    await this.#intake.acceptConnections();
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
    this.requests.length = 0;
    this.#book.clear();
    this.#queue.clear();
    this.#endpoints.resetSwitches();
    this.#intake.setAnswerDelay(0);
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
    this.#queue.stop();
    await this.#intake.stop();
  }

  #defaultSource(): string {
    return this.sourceIds[0] ?? '1';
  }

  #handle(res: ServerResponse, path: string, body: unknown, record: RtaRequestRecord): void {
    let afterAnswer: (() => void) | undefined;
    try {
      const handled = this.#endpoints.handle(path, body, record);
      if (handled === 'no-content') {
        record.status = 204;
        res.writeHead(204);
        res.end();
        this.emit('request', record);
        return;
      }
      afterAnswer = handled;
      this.#intake.answer(res, record, undefined);
    } catch (err) {
      this.#intake.answer(res, record, err);
    }
    afterAnswer?.();
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
