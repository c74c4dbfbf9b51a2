/** The Teleopti RTA HTTP client. */
import { type RedactOptions, redactSecrets, sanitizeCause } from '@connect-wfm/redact';
import { Agent, fetch } from 'undici';
import { retryAfterMs, retryDelay } from './backoff.js';
import {
  InvalidAuthenticationKeyError,
  InvalidSendOptionsError,
  RejectedBatchError,
  RetriesExhaustedError,
  RtaAbortedError,
  RtaClientClosedError,
  RtaHttpError,
  TeleoptiRtaError,
  TlsCertificateError,
  UnknownSourceError,
} from './errors.js';
import { type ResolvedOptions, resolveOptions } from './options.js';
import type {
  RtaClientCounters,
  RtaLogger,
  RtaRequestEvent,
  RtaRequestKind,
  RtaRetryEvent,
  RtaRetryReason,
  RtaSendOptions,
  RtaSendReport,
  RtaSnapshotOptions,
  RtaState,
  TeleoptiRtaClientOptions,
} from './types.js';
import {
  assertSendable,
  batchPrefix,
  classifyBadRequest,
  describeTransportError,
  LEGACY_MAX_BATCH_SIZE,
  serializeBatch,
  serverMessage,
  tlsCertificateCode,
  usersNamedNotFound,
} from './wire.js';

/**
 * The authentication key is redacted wherever it occurs, whatever its length: the whole-token rule
 * for short secrets (meant for one-letter test passwords) would leave a short key visible inside
 * other text.
 */
const KEY_REDACTION: RedactOptions = { wholeTokenBelow: 0 };

/** `text` with every raw, JSON-escaped and URL-encoded occurrence of `key` redacted. */
const redactKey = (text: string, key: string): string => redactSecrets(text, [key], KEY_REDACTION);

interface RequestSpec {
  kind: RtaRequestKind;
  url: URL;
  body: string;
  /** Number of states in the body. */
  states: number;
  /** User codes of the body's states, computed only when a rejection needs them. */
  userCodes: () => string[];
}

type AttemptResult =
  | { ok: true }
  | {
      ok: false;
      reason: RtaRetryReason;
      status?: number;
      message: string;
      cause?: unknown;
      /** What a 503/429 `Retry-After` header asked for, in ms. */
      retryAfterMs?: number;
    };

class Timeout extends Error {
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

function newReport(): RtaSendReport {
  return {
    requests: 0,
    retries: 0,
    acceptedRequests: 0,
    statesSent: 0,
    rejected: [],
    durationMs: 0,
  };
}

function newCounters(): RtaClientCounters {
  return {
    requests: 0,
    acceptedRequests: 0,
    statesSent: 0,
    retries: 0,
    serverErrors: 0,
    timeouts: 0,
    networkErrors: 0,
    rejectedBatches: 0,
    rejectedStates: 0,
    snapshots: 0,
  };
}

const noop = () => {};
const silent: RtaLogger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * Posts agent states to Teleopti WFM's RTA web service (`POST Rta/State/Batch`).
 *
 * - `sendStates` splits ordinary states into chunks (`chunkSize`, default 1,000; 50 in legacy mode)
 *   and posts them in order;
 * - `sendSnapshot` posts a complete snapshot as exactly one request (legacy: per-state
 *   `SnapshotId` in chunks of ≤ 50, then `Rta/State/CloseSnapshot`);
 * - 5xx answers, timeouts and network errors are retried with exponential backoff and full jitter
 *   until success or until the caller's `AbortSignal` fires; 400 answers become typed errors.
 *
 * The authentication key is kept in a private field and never appears in errors or logs.
 *
 * @example
 * const client = new TeleoptiRtaClient({
 *   baseUrl: 'https://wfm.example.com/TeleoptiWFM/Web',
 *   authenticationKey: process.env.RTA_KEY ?? '',
 *   sourceId: '1',
 * });
 * const report = await client.sendStates([
 *   { userCode: 'agent.alvarez', stateCode: 'Available', stateDescription: 'Available' },
 * ]);
 * await client.close();
 */
export class TeleoptiRtaClient {
  readonly #options: ResolvedOptions;
  readonly #key: string;
  readonly #agent: Agent;
  readonly #logger: RtaLogger;
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
    this.#logger = options.logger ?? silent;
    this.#onRetry = options.onRetry;
    this.#onRequest = options.onRequest;
    const base = this.#options.endpointBase;
    this.#batchUrl = new URL('Rta/State/Batch', base);
    this.#closeUrl = new URL('Rta/State/CloseSnapshot', base);
    this.#endpoint = `${base.origin}${base.pathname}`;
    this.#statesPrefix = batchPrefix(this.#key, this.#options.sourceId, false);
    this.#snapshotPrefix = batchPrefix(this.#key, this.#options.sourceId, !this.#options.legacy);
    this.#agent = new Agent({
      ...(this.#options.ca === undefined ? {} : { connect: { ca: this.#options.ca } }),
    });
  }

  /** Whether the client talks to an older server (see the `legacy` option). */
  get legacy(): boolean {
    return this.#options.legacy;
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
   * Posts ordinary (non-snapshot) states in chunks of `chunkSize` (≤ 50 in legacy mode), one after
   * another so that the order is kept. Each chunk is retried until accepted or aborted. A chunk
   * rejected with a non-fatal 400 is reported in `report.rejected` and the next chunk goes on;
   * fatal errors are thrown. Nothing is sent when a state is invalid (`InvalidStateError`).
   * Legacy mode: a chunk rejected with "No person found for UserCode X" is sent again without the
   * named user(s) (each left out at most once), which are reported in `report.rejected`.
   *
   * @throws InvalidAuthenticationKeyError | UnknownSourceError | RtaHttpError | TlsCertificateError (fatal)
   * @throws RtaAbortedError when `signal` fires; RetriesExhaustedError when `retry.maxAttempts` is reached.
   * @example
   * const report = await client.sendStates(changed, { signal });
   * console.log(report.statesSent, report.retries, report.rejected.length);
   */
  async sendStates(
    states: readonly RtaState[],
    options: RtaSendOptions = {},
  ): Promise<RtaSendReport> {
    assertSendable(states);
    const report = newReport();
    const started = performance.now();
    try {
      this.#assertOpen();
      const size = this.#options.legacy
        ? Math.min(this.#options.chunkSize, LEGACY_MAX_BATCH_SIZE)
        : this.#options.chunkSize;
      for (let start = 0; start < states.length; start += size) {
        const end = Math.min(states.length, start + size);
        try {
          await this.#sendChunk('batch', states, start, end, report, options.signal);
        } catch (err) {
          if (!(err instanceof RejectedBatchError)) throw err;
          report.rejected.push(err);
        }
      }
      return report;
    } catch (err) {
      throw this.#attachReport(err, report);
    } finally {
      report.durationMs = performance.now() - started;
    }
  }

  /**
   * Posts a complete snapshot: every agent not in it (and not already logged out) is logged out by
   * the server. Current API: exactly one request with `IsSnapshot: true`, whatever its size.
   * Legacy: chunks of ≤ 50 states carrying `SnapshotId`, then `Rta/State/CloseSnapshot`, sent only
   * after every chunk was accepted. A chunk rejected with "No person found for UserCode X" is sent
   * again without the named user(s) (reported in `report.rejected`; they have no person, so
   * closing cannot log anyone wrongly out); any other 400 is thrown and the snapshot is not closed.
   * A `snapshotId` given must contain a character other than white space (checked before anything
   * is sent).
   *
   * @throws InvalidSendOptionsError (legacy: a blank `snapshotId`; nothing sent).
   * @throws RejectedBatchError and every error `sendStates` throws.
   * @example
   * await client.sendSnapshot(allAgents, { signal });
   */
  async sendSnapshot(
    states: readonly RtaState[],
    options: RtaSnapshotOptions = {},
  ): Promise<RtaSendReport> {
    if (this.#options.legacy && options.snapshotId !== undefined) {
      const id: unknown = options.snapshotId;
      if (typeof id !== 'string' || !/\S/.test(id)) {
        throw new InvalidSendOptionsError([
          'snapshotId: must be a string with a character other than white space (it is put on every state and closed by CloseSnapshot)',
        ]);
      }
    }
    assertSendable(states);
    const report = newReport();
    const started = performance.now();
    try {
      this.#assertOpen();
      if (!this.#options.legacy) {
        await this.#sendChunk('snapshot', states, 0, states.length, report, options.signal);
      } else {
        const snapshotId = options.snapshotId ?? new Date().toISOString();
        const size = Math.min(this.#options.chunkSize, LEGACY_MAX_BATCH_SIZE);
        for (let start = 0; start < states.length; start += size) {
          const end = Math.min(states.length, start + size);
          await this.#sendChunk('snapshot', states, start, end, report, options.signal, snapshotId);
        }
        await this.#send(
          {
            kind: 'close-snapshot',
            url: this.#closeUrl,
            body: `{"AuthenticationKey":${JSON.stringify(this.#key)},"SourceId":${JSON.stringify(this.#options.sourceId)},"SnapshotId":${JSON.stringify(snapshotId)}}`,
            states: 0,
            userCodes: () => [],
          },
          report,
          options.signal,
        );
      }
      this.#counters.snapshots += 1;
      this.#logger.info('Teleopti RTA snapshot sent', {
        states: states.length,
        requests: report.requests,
        retries: report.retries,
        legacy: this.#options.legacy,
      });
      return report;
    } catch (err) {
      throw this.#attachReport(err, report);
    } finally {
      report.durationMs = performance.now() - started;
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

  #assertOpen(): void {
    if (this.#closed) throw new RtaClientClosedError();
  }

  #attachReport(err: unknown, report: RtaSendReport): unknown {
    if (err instanceof TeleoptiRtaError && err.report === undefined) err.report = report;
    return err;
  }

  /**
   * Sends `states[start..end)` as one request (retried until accepted). In legacy mode, a 400
   * "No person found for UserCode X" that names user codes of the request is answered by sending
   * it again without those users' states; each user code is left out at most once, so a request
   * is sent at most once more per distinct user code in it. The left-out users go into
   * `report.rejected`. Any other 400 (or one naming nobody in the request) is thrown.
   */
  async #sendChunk(
    kind: 'batch' | 'snapshot',
    states: readonly RtaState[],
    start: number,
    end: number,
    report: RtaSendReport,
    signal: AbortSignal | undefined,
    snapshotId?: string,
  ): Promise<void> {
    const prefix = kind === 'batch' ? this.#statesPrefix : this.#snapshotPrefix;
    let list = states;
    let from = start;
    let to = end;
    for (;;) {
      const part = list;
      const [a, b] = [from, to];
      try {
        await this.#send(
          {
            kind,
            url: this.#batchUrl,
            body: serializeBatch(prefix, part, a, b, snapshotId),
            states: b - a,
            userCodes: () => part.slice(a, b).map((s) => s.userCode),
          },
          report,
          signal,
        );
        return;
      } catch (err) {
        if (!(err instanceof RejectedBatchError)) throw err;
        const remaining = part.slice(a, b);
        const named = this.#options.legacy ? usersNamedNotFound(err.serverMessage, remaining) : [];
        if (named.length === 0) {
          this.#counters.rejectedStates += b - a;
          this.#logger.warn('Teleopti RTA rejected a batch; it is not retried', {
            status: err.status,
            serverMessage: err.serverMessage,
            states: b - a,
            userCodes: err.userCodes.slice(0, 20),
          });
          throw err;
        }
        const unknown = new Set(named);
        list = remaining.filter((s) => !unknown.has(s.userCode));
        from = 0;
        to = list.length;
        const left = remaining.length - list.length;
        this.#counters.rejectedStates += left;
        report.rejected.push(
          new RejectedBatchError(this.#endpoint, err.status, err.serverMessage, named, {
            resentWithout: true,
          }),
        );
        this.#logger.warn(
          'Teleopti RTA has no person for user code(s) of a batch; sending it again without them',
          {
            status: err.status,
            serverMessage: err.serverMessage,
            leftOut: left,
            userCodes: named.slice(0, 20),
            remaining: list.length,
          },
        );
        if (list.length === 0) return;
      }
    }
  }

  /** One request, retried until accepted; throws typed errors. */
  async #send(spec: RequestSpec, report: RtaSendReport, signal: AbortSignal | undefined) {
    const what = `Sending ${spec.states} state(s) to Teleopti RTA (${spec.kind})`;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new RtaAbortedError(what, signal.reason);
      this.#assertOpen();
      report.requests += 1;
      this.#counters.requests += 1;
      const started = performance.now();
      let result: AttemptResult;
      try {
        result = await this.#attempt(spec, signal, what);
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
            error: redactKey(String(hookErr), this.#key),
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
        error: redactKey(String(hookErr), this.#key),
      });
    }
  }

  /** One HTTP attempt with its own time limit. */
  async #attempt(
    spec: RequestSpec,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<AttemptResult> {
    const controller = new AbortController();
    const timeout = new Timeout(this.#options.timeoutMs);
    const timer = setTimeout(() => controller.abort(timeout), this.#options.timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await fetch(spec.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
        body: spec.body,
        dispatcher: this.#agent,
        signal: controller.signal,
        // A redirect is never followed: a 302 to a page answering 200 would count the states as
        // accepted, and a 307 would post the authentication key to wherever it points.
        redirect: 'manual',
      });
      const text = await res.text();
      if (res.status >= 200 && res.status < 300) return { ok: true };
      const redact = (s: string): string => redactKey(s, this.#key);
      if (res.status >= 300 && res.status < 400) {
        const location = res.headers.get('location');
        throw new RtaHttpError(
          this.#endpoint,
          res.status,
          redact(
            `a redirect to ${location ?? '(no Location header)'}; redirects are not followed: set baseUrl to the final address`,
          ),
        );
      }
      const message = serverMessage(text, res.statusText, redact);
      if (res.status === 400) {
        const kind = classifyBadRequest(message);
        if (kind === 'invalid-key') {
          throw new InvalidAuthenticationKeyError(this.#endpoint, res.status, message);
        }
        if (kind === 'unknown-source') {
          throw new UnknownSourceError(this.#endpoint, this.#options.sourceId, res.status, message);
        }
        throw new RejectedBatchError(this.#endpoint, res.status, message, spec.userCodes());
      }
      // 501 and 505 are answers about the request itself, which a retry does not change.
      if (
        (res.status >= 500 && res.status !== 501 && res.status !== 505) ||
        res.status === 408 ||
        res.status === 429
      ) {
        const asked =
          res.status === 503 || res.status === 429
            ? retryAfterMs(res.headers.get('retry-after'))
            : undefined;
        return {
          ok: false,
          reason: 'server-error',
          status: res.status,
          message,
          ...(asked === undefined ? {} : { retryAfterMs: asked }),
        };
      }
      throw new RtaHttpError(this.#endpoint, res.status, message);
    } catch (err) {
      if (err instanceof TeleoptiRtaError) throw err;
      if (signal?.aborted) throw new RtaAbortedError(what, signal.reason);
      if (controller.signal.aborted && controller.signal.reason === timeout) {
        return { ok: false, reason: 'timeout', message: timeout.message, cause: timeout };
      }
      const cause = sanitizeCause(err, [this.#key], KEY_REDACTION);
      const tlsCode = tlsCertificateCode(err);
      if (tlsCode !== undefined) throw new TlsCertificateError(this.#endpoint, tlsCode, cause);
      return {
        ok: false,
        reason: 'network',
        message: redactKey(describeTransportError(err), this.#key),
        cause,
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Waits `ms`, or throws RtaAbortedError as soon as `signal` fires. */
async function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  if (signal?.aborted) throw new RtaAbortedError(what, signal.reason);
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new RtaAbortedError(what, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
