/** The Teleopti RTA HTTP client. */
import {
  type Logger,
  type RedactOptions,
  redactSecrets,
  sanitizeCause,
  silentLogger,
} from '@connect-wfm/core';
import { Agent, fetch } from 'undici';
import { retryAfterMs, retryDelay } from './backoff.js';
import {
  InvalidAuthenticationKeyError,
  InvalidSendOptionsError,
  NoLoggedOutStateGroupError,
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
  RtaRequestEvent,
  RtaRequestKind,
  RtaRetryEvent,
  RtaRetryReason,
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
  classifyAnswer,
  describeTransportError,
  lastPerUser,
  MAX_REPLY_BYTES,
  serializeBatch,
  serverMessage,
  snapshotIdPrefix,
  tlsCertificateCode,
  usersNamedNotFound,
} from './wire.js';

/**
 * The authentication key is redacted wherever it occurs, whatever its length: the whole-token rule
 * for short secrets (meant for one-letter test passwords) would leave a short key visible inside
 * other text.
 */
const KEY_REDACTION: RedactOptions = { wholeTokenBelow: 0 };

/**
 * Every form in which a server might echo the key beyond core's raw, JSON- and URL-escaped ones:
 * base64 (standard and URL-safe, with and without padding) and `\uXXXX` escapes of every
 * character (lower- and upper-case hex).
 */
function keyForms(key: string): string[] {
  const b64 = Buffer.from(key, 'utf8').toString('base64');
  const b64url = Buffer.from(key, 'utf8').toString('base64url');
  const units = [...key].flatMap((ch) => {
    const out: string[] = [];
    for (let i = 0; i < ch.length; i++) out.push(ch.charCodeAt(i).toString(16).padStart(4, '0'));
    return out;
  });
  const lower = units.map((u) => `\\u${u}`).join('');
  return [
    key,
    b64,
    b64.replace(/=+$/, ''),
    b64url,
    lower,
    lower.toUpperCase().replace(/\\U/g, '\\u'),
  ];
}

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

interface CallContext {
  report: RtaSendReport & { rejectedUsers: string[] };
  signal: AbortSignal | undefined;
  /** No retry starts, and no retry wait ends, after this (performance.now() time). */
  deadline: number;
}

function newReport(): RtaSendReport & { rejectedUsers: string[] } {
  return {
    requests: 0,
    retries: 0,
    acceptedRequests: 0,
    statesSent: 0,
    rejectedUsers: [],
    superseded: 0,
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

  /** One HTTP attempt with its own time limit; reads at most MAX_REPLY_BYTES of the reply. */
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
      if (res.status >= 200 && res.status < 300) {
        // Accepted whatever the body says, even when it breaks off: the server has answered.
        // It is read (a bounded prefix) only so that the connection can be reused.
        await readPrefix(res.body, MAX_REPLY_BYTES).catch(() => '');
        return { ok: true };
      }
      const text = await readPrefix(res.body, MAX_REPLY_BYTES);
      const redact = (t: string): string => this.#redact(t);
      if (res.status >= 300 && res.status < 400) {
        const location = res.headers.get('location');
        throw new RtaHttpError(
          this.#endpoint,
          res.status,
          redact(
            `a redirect to ${(location ?? '(no Location header)').slice(0, 500)}; redirects are not followed: set baseUrl to the final address`,
          ),
        );
      }
      const message = serverMessage(text, res.statusText, redact);
      const kind = res.status === 400 || res.status >= 500 ? classifyAnswer(message) : 'other';
      if (kind === 'invalid-key') {
        throw new InvalidAuthenticationKeyError(this.#endpoint, res.status, message);
      }
      if (kind === 'unknown-source') {
        throw new UnknownSourceError(this.#endpoint, this.#options.sourceId, res.status, message);
      }
      if (kind === 'no-logged-out-group') {
        throw new NoLoggedOutStateGroupError(this.#endpoint, res.status, message);
      }
      if (res.status === 400 || (res.status >= 500 && kind === 'content')) {
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
      const cause = sanitizeCause(err, this.#keyForms, KEY_REDACTION);
      const tlsCode = tlsCertificateCode(err);
      if (tlsCode !== undefined) throw new TlsCertificateError(this.#endpoint, tlsCode, cause);
      return {
        ok: false,
        reason: 'network',
        message: this.#redact(describeTransportError(err)),
        cause,
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * Reads at most `limit` bytes of a reply body as UTF-8 and cancels the rest, so a reply of any
 * size costs bounded memory (issue: a 1 GiB answer once cost 2 GB).
 */
async function readPrefix(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string> {
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks, size).toString('utf8');
      const room = limit - size;
      const part = value.byteLength > room ? value.subarray(0, room) : value;
      chunks.push(part);
      size += part.byteLength;
    }
    await reader.cancel().catch(() => {});
    // A cut multi-byte character decodes as U+FFFD; the message is cut at 500 characters anyway.
    return Buffer.concat(chunks, size).toString('utf8');
  } finally {
    reader.releaseLock();
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
