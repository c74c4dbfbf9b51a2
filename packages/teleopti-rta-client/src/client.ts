/** The Teleopti RTA HTTP client. */
import { type Logger, redactSecrets, silentLogger } from '@connect-wfm/core';
import { Agent } from 'undici';
import { type AttemptResult, attemptRequest, type RequestSpec, type Transport } from './attempt.js';
import { retryDelay } from './backoff.js';
import { type CallContext, newCounters, newReport, sleep } from './call-context.js';
import {
  InvalidSendOptionsError,
  RejectedBatchError,
  RetriesExhaustedError,
  RtaAbortedError,
  RtaClientClosedError,
  TeleoptiRtaError,
} from './errors.js';
import { KEY_REDACTION, keyForms } from './key-redaction.js';
import { type ResolvedOptions, resolveOptions } from './options.js';
import type {
  RtaClientCounters,
  RtaRequestEvent,
  RtaRetryEvent,
  RtaSendOptions,
  RtaSendReport,
  RtaServerGeneration,
  RtaSnapshotOptions,
  RtaState,
  TeleoptiRtaClientOptions,
} from './types.js';
import {
  assertSendable,
  batchPrefix,
  lastPerUser,
  serializeBatch,
  snapshotIdPrefix,
  usersNamedNotFound,
} from './wire.js';

/**
 * Posts agent states to Teleopti WFM's RTA web service (`POST Rta/State/Batch`).
 *
 * - each call sends each user once (the last state given wins);
 * - `sendStates` posts ordinary states in chunks of `chunkSize` (default 1,000), in order;
 * - `sendSnapshot` posts a complete snapshot as exactly one request (`snapshot-id` servers:
 *   chunks with a top-level `SnapshotId`, then `Rta/State/CloseSnapshot`);
 * - users the server has no person for ("No person found") are set aside and the rest is
 *   delivered again, in every mode; they are listed in `report.rejectedUsers`;
 * - 5xx answers, timeouts and network errors are retried with core's backoff until success,
 *   `retry.maxAttempts`, the call's retry time (`maxRetryElapsedMs`) or the caller's
 *   `AbortSignal`; configuration errors are thrown as fatal, non-retryable errors.
 *
 * The authentication key is kept in a private field and never appears in errors or logs.
 * TLS certificates are always verified: `NODE_TLS_REJECT_UNAUTHORIZED=0` does not turn that off.
 *
 * @example
 * const client = new TeleoptiRtaClient({
 *   baseUrl: 'https://wfm.example.com/TeleoptiWFM/Web',
 *   authenticationKey: process.env.RTA_KEY ?? '',
 *   sourceId: '1',
 * });
 * const report = await client.sendStates(
 *   [{ userCode: 'agent.alvarez', stateCode: 'Available', stateDescription: 'Available' }],
 *   { maxRetryElapsedMs: 4000 },
 * );
 * console.log(report.statesSent, report.rejectedUsers);
 * await client.close();
 */
export class TeleoptiRtaClient {
  readonly #options: ResolvedOptions;
  readonly #key: string;
  readonly #keyForms: string[];
  readonly #agent: Agent;
  readonly #transport: Transport;
  readonly #logger: Logger;
  readonly #onRetry: ((event: RtaRetryEvent) => void) | undefined;
  readonly #onRequest: ((event: RtaRequestEvent) => void) | undefined;
  readonly #batchUrl: URL;
  readonly #closeUrl: URL;
  readonly #endpoint: string;
  readonly #statesPrefix: string;
  readonly #snapshotPrefix: string;
  readonly #counters = newCounters();
  #closed = false;

  /**
   * @throws RtaClientConfigError when an option is invalid (every problem listed).
   * @example
   * const client = new TeleoptiRtaClient({ baseUrl: rta.url, authenticationKey: rta.authenticationKey, sourceId: '1' });
   */
  constructor(options: TeleoptiRtaClientOptions) {
    this.#options = resolveOptions(options);
    this.#key = this.#options.authenticationKey;
    this.#keyForms = keyForms(this.#key);
    this.#logger = options.logger ?? silentLogger;
    this.#onRetry = options.onRetry;
    this.#onRequest = options.onRequest;
    const base = this.#options.endpointBase;
    this.#batchUrl = new URL('Rta/State/Batch', base);
    this.#closeUrl = new URL('Rta/State/CloseSnapshot', base);
    this.#endpoint = `${base.origin}${base.pathname}`;
    this.#statesPrefix = batchPrefix(this.#key, this.#options.sourceId, false);
    this.#snapshotPrefix = batchPrefix(this.#key, this.#options.sourceId, true);
    // rejectUnauthorized is given explicitly: Node's TLS takes NODE_TLS_REJECT_UNAUTHORIZED only
    // as the default of an option left unset.
    this.#agent = new Agent({
      connect: {
        rejectUnauthorized: true,
        ...(this.#options.ca === undefined ? {} : { ca: this.#options.ca }),
      },
    });
    this.#transport = {
      agent: this.#agent,
      endpoint: this.#endpoint,
      timeoutMs: this.#options.timeoutMs,
      sourceId: this.#options.sourceId,
      keyForms: this.#keyForms,
      redact: (text) => this.#redact(text),
    };
    if (process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
      this.#logger.warn(
        'NODE_TLS_REJECT_UNAUTHORIZED=0 is set; the Teleopti RTA client ignores it and verifies certificates (use the "ca" option for a private CA)',
      );
    }
  }

  /** The server generation this client talks to. */
  get generation(): RtaServerGeneration {
    return this.#options.generation;
  }

  /** @deprecated Use `generation`: true when it is `snapshot-id`. */
  get legacy(): boolean {
    return this.#options.generation === 'snapshot-id';
  }

  /**
   * Totals since the client was created (a copy).
   *
   * @example
   * metrics.gauge('rta.retries', client.counters().retries);
   */
  counters(): RtaClientCounters {
    return { ...this.#counters };
  }

  /**
   * Posts ordinary (non-snapshot) states, each user once (the last state given wins), in chunks
   * of `chunkSize`, one after another. A chunk answered "No person found for UserCode X" is sent
   * again without X (`report.rejectedUsers`); a chunk rejected otherwise (400, or a 500 about its
   * content) is reported in `report.rejected` and the next chunk goes on. Nothing is sent when a
   * state is invalid (`InvalidStateError`).
   *
   * @throws InvalidAuthenticationKeyError | UnknownSourceError | RtaHttpError | TlsCertificateError (fatal, not retryable)
   * @throws RetriesExhaustedError (retryable) when `retry.maxAttempts` or the retry time is used
   *   up; RtaAbortedError (retryable) when `signal` fires. `error.report` says what was delivered.
   * @example
   * const report = await client.sendStates(changed, { maxRetryElapsedMs: 4000 });
   * console.log(report.statesSent, report.rejectedUsers);
   */
  async sendStates(
    states: readonly RtaState[],
    options: RtaSendOptions = {},
  ): Promise<RtaSendReport> {
    assertSendable(states);
    const ctx = this.#context(options);
    const started = performance.now();
    try {
      this.#assertOpen();
      const unique = lastPerUser(states);
      ctx.report.superseded = unique.superseded;
      const size = this.#options.chunkSize;
      for (let start = 0; start < unique.states.length; start += size) {
        const chunk = unique.states.slice(start, start + size);
        try {
          await this.#sendChunk('batch', this.#statesPrefix, chunk, ctx);
        } catch (err) {
          if (!(err instanceof RejectedBatchError)) throw err;
          ctx.report.rejected.push(err);
        }
      }
      return ctx.report;
    } catch (err) {
      throw this.#attachReport(err, ctx.report);
    } finally {
      ctx.report.durationMs = performance.now() - started;
    }
  }

  /**
   * Posts a complete snapshot, each user once: every agent not in it (and not already logged
   * out) is logged out by the server. `current`/`synchronous`: exactly one request with
   * `IsSnapshot: true`, whatever its size. `snapshot-id`: chunks of `chunkSize` carrying one
   * top-level `SnapshotId`, then `Rta/State/CloseSnapshot`, sent only after every chunk was
   * accepted. Users the server has no person for are set aside (`report.rejectedUsers`) and the
   * snapshot is sent again without them, so it is still accepted.
   *
   * @throws InvalidSendOptionsError (`snapshotId` not a date-time; nothing sent).
   * @throws NoLoggedOutStateGroupError (fatal) when no state group is flagged logged-out.
   * @throws RejectedBatchError and every error `sendStates` throws.
   * @example
   * await client.sendSnapshot(allAgents, { signal });
   */
  async sendSnapshot(
    states: readonly RtaState[],
    options: RtaSnapshotOptions = {},
  ): Promise<RtaSendReport> {
    const snapshotIds = this.#options.generation === 'snapshot-id';
    if (snapshotIds && options.snapshotId !== undefined) {
      const id: unknown = options.snapshotId;
      if (typeof id !== 'string' || !/^\s*\d/.test(id) || !Number.isFinite(Date.parse(id))) {
        throw new InvalidSendOptionsError([
          'snapshotId: must be a date-time such as 2024-05-01T08:00:00.000Z (the server reads it as one; anything else counts as no snapshot id)',
        ]);
      }
    }
    assertSendable(states);
    const ctx = this.#context(options);
    const started = performance.now();
    try {
      this.#assertOpen();
      const unique = lastPerUser(states);
      ctx.report.superseded = unique.superseded;
      if (!snapshotIds) {
        await this.#sendChunk('snapshot', this.#snapshotPrefix, unique.states, ctx);
      } else {
        const snapshotId = options.snapshotId ?? new Date().toISOString();
        const prefix = snapshotIdPrefix(this.#key, this.#options.sourceId, snapshotId);
        const size = this.#options.chunkSize;
        for (let start = 0; start < unique.states.length; start += size) {
          await this.#sendChunk('snapshot', prefix, unique.states.slice(start, start + size), ctx);
        }
        await this.#send(
          {
            kind: 'close-snapshot',
            url: this.#closeUrl,
            body: `{"AuthenticationKey":${JSON.stringify(this.#key)},"SourceId":${JSON.stringify(this.#options.sourceId)},"SnapshotId":${JSON.stringify(snapshotId)}}`,
            states: 0,
            userCodes: () => [],
          },
          ctx,
        );
      }
      this.#counters.snapshots += 1;
      this.#logger.info('Teleopti RTA snapshot sent', {
        states: unique.states.length,
        rejectedUsers: ctx.report.rejectedUsers.length,
        requests: ctx.report.requests,
        retries: ctx.report.retries,
        generation: this.#options.generation,
      });
      return ctx.report;
    } catch (err) {
      throw this.#attachReport(err, ctx.report);
    } finally {
      ctx.report.durationMs = performance.now() - started;
    }
  }

  /**
   * Closes the connection pool once in-flight requests have finished (abort running calls first
   * to stop at once). Later send calls, and retries of running ones, throw `RtaClientClosedError`.
   *
   * @example
   * process.on('SIGTERM', () => client.close());
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agent.close();
  }

  #context(options: RtaSendOptions): CallContext {
    const limit = options.maxRetryElapsedMs ?? this.#options.retry.maxElapsedMs;
    if (!(typeof limit === 'number' && limit >= 0)) {
      throw new InvalidSendOptionsError(['maxRetryElapsedMs: must be a number of ms, 0 or more']);
    }
    return { report: newReport(), signal: options.signal, deadline: performance.now() + limit };
  }

  #assertOpen(): void {
    if (this.#closed) throw new RtaClientClosedError();
  }

  #attachReport(err: unknown, report: RtaSendReport): unknown {
    if (err instanceof TeleoptiRtaError && err.report === undefined) err.report = report;
    return err;
  }

  #redact(text: string): string {
    return redactSecrets(text, this.#keyForms, KEY_REDACTION);
  }

  /**
   * Sends `states` as one request (retried until accepted). A "No person found for UserCode X"
   * answer naming user codes of the request is answered by sending it again without those
   * users; each round removes at least one user, so a request is sent at most once more per
   * user in it. Any other rejection (or one naming nobody in the request) is thrown.
   */
  async #sendChunk(
    kind: 'batch' | 'snapshot',
    prefix: string,
    states: readonly RtaState[],
    ctx: CallContext,
  ): Promise<void> {
    let list = states;
    for (;;) {
      const part = list;
      try {
        await this.#send(
          {
            kind,
            url: this.#batchUrl,
            body: serializeBatch(prefix, part),
            states: part.length,
            userCodes: () => part.map((s) => s.userCode),
          },
          ctx,
        );
        return;
      } catch (err) {
        if (!(err instanceof RejectedBatchError)) throw err;
        const named = usersNamedNotFound(err.serverMessage, part);
        if (named.length === 0) {
          this.#counters.rejectedStates += part.length;
          this.#logger.warn('Teleopti RTA rejected a batch; it is not retried', {
            status: err.status,
            serverMessage: err.serverMessage,
            states: part.length,
            userCodes: err.userCodes.slice(0, 20),
          });
          throw err;
        }
        const unknown = new Set(named.map((u) => u.toLowerCase()));
        list = part.filter((s) => !unknown.has(s.userCode.toLowerCase()));
        this.#counters.rejectedStates += part.length - list.length;
        ctx.report.rejectedUsers.push(...named);
        ctx.report.rejected.push(
          new RejectedBatchError(this.#endpoint, err.status, err.serverMessage, named, {
            resentWithout: true,
          }),
        );
        this.#logger.warn(
          'Teleopti RTA has no person for user code(s) of a batch; sending it again without them',
          {
            status: err.status,
            serverMessage: err.serverMessage,
            userCodes: named.slice(0, 20),
            remaining: list.length,
          },
        );
        // An emptied snapshot is still sent (it logs out everyone else); an emptied chunk is not.
        if (list.length === 0 && (kind === 'batch' || prefix !== this.#snapshotPrefix)) return;
      }
    }
  }

  /** One request, retried until accepted, the retry limits or the signal; throws typed errors. */
  async #send(spec: RequestSpec, ctx: CallContext): Promise<void> {
    const { report, signal } = ctx;
    const what = `Sending ${spec.states} state(s) to Teleopti RTA (${spec.kind})`;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new RtaAbortedError(what, signal.reason);
      this.#assertOpen();
      report.requests += 1;
      this.#counters.requests += 1;
      const started = performance.now();
      let result: AttemptResult;
      try {
        result = await attemptRequest(this.#transport, spec, signal, what);
      } catch (err) {
        const outcome =
          err instanceof RtaAbortedError
            ? 'aborted'
            : err instanceof RejectedBatchError
              ? 'rejected'
              : 'fatal';
        const status = (err as { status?: unknown }).status;
        this.#emitRequest({
          kind: spec.kind,
          attempt,
          outcome,
          ...(typeof status === 'number' ? { status } : {}),
          durationMs: performance.now() - started,
          states: spec.states,
        });
        if (err instanceof RejectedBatchError) {
          this.#counters.rejectedBatches += 1;
        } else if (err instanceof TeleoptiRtaError && err.fatal) {
          this.#logger.error(err.message, { code: err.code });
        }
        throw err;
      }
      const durationMs = performance.now() - started;
      if (result.ok) {
        report.acceptedRequests += 1;
        report.statesSent += spec.states;
        this.#counters.acceptedRequests += 1;
        this.#counters.statesSent += spec.states;
        this.#emitRequest({
          kind: spec.kind,
          attempt,
          outcome: 'accepted',
          status: 200,
          durationMs,
          states: spec.states,
        });
        this.#logger.debug('Teleopti RTA accepted a request', {
          kind: spec.kind,
          states: spec.states,
          attempt,
          durationMs: Math.round(durationMs),
        });
        return;
      }
      if (result.reason === 'server-error') this.#counters.serverErrors += 1;
      else if (result.reason === 'timeout') this.#counters.timeouts += 1;
      else this.#counters.networkErrors += 1;
      this.#emitRequest({
        kind: spec.kind,
        attempt,
        outcome: 'retry',
        ...(result.status === undefined ? {} : { status: result.status }),
        durationMs,
        states: spec.states,
      });
      if (attempt >= this.#options.retry.maxAttempts) {
        throw new RetriesExhaustedError(this.#endpoint, attempt, result.message, result.cause);
      }
      const delayMs = retryDelay(attempt, this.#options.retry, result.retryAfterMs);
      if (performance.now() + delayMs > ctx.deadline) {
        throw new RetriesExhaustedError(
          this.#endpoint,
          attempt,
          result.message,
          result.cause,
          'max-elapsed',
        );
      }
      report.retries += 1;
      this.#counters.retries += 1;
      const event: RtaRetryEvent = {
        kind: spec.kind,
        attempt,
        delayMs,
        reason: result.reason,
        ...(result.status === undefined ? {} : { status: result.status }),
        message: result.message,
        states: spec.states,
      };
      this.#logger.warn('Teleopti RTA request failed; retrying', { ...event });
      if (this.#onRetry) {
        try {
          this.#onRetry(event);
        } catch (hookErr) {
          this.#logger.warn('onRetry hook threw; ignored', {
            error: this.#redact(String(hookErr)),
          });
        }
      }
      await sleep(delayMs, signal, what);
    }
  }

  #emitRequest(event: RtaRequestEvent): void {
    if (!this.#onRequest) return;
    try {
      this.#onRequest(event);
    } catch (hookErr) {
      this.#logger.warn('onRequest hook threw; ignored', {
        error: this.#redact(String(hookErr)),
      });
    }
  }
}
