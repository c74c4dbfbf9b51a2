/**
 * Public option and result types of @connect-wfm/teleopti-rta-client.
 */
import type { BackoffPolicy, Logger } from '@connect-wfm/core';
import type { RejectedBatchError } from './errors.js';

export type { Logger } from '@connect-wfm/core';

/**
 * One agent state as the WFM receives it. The same structural type is produced by
 * `@connect-wfm/rta-delta-collapser`.
 */
export interface RtaState {
  /** The agent's ACD login in Teleopti: the Amazon Connect username. Not empty. */
  userCode: string;
  /** State code, matched case-insensitively by the server. 1 to 300 characters. */
  stateCode: string;
  /** Human-readable description (read by older servers, ignored by newer ones; always sent). */
  stateDescription: string;
}

/**
 * @deprecated Use `Logger` (the same interface, from @connect-wfm/core).
 */
export type RtaLogger = Logger;

/**
 * Retry policy for 5xx answers, timeouts and network errors: @connect-wfm/core's backoff (the
 * delay doubles from `baseMs` up to `maxMs`, jittered), bounded by attempts and/or elapsed time.
 */
export interface RtaRetryOptions extends BackoffPolicy {
  /**
   * @deprecated Use `baseMs`.
   */
  initialDelayMs?: number;
  /**
   * @deprecated Use `maxMs`. A 503/429 `Retry-After` header lengthens a wait up to `maxMs`, never beyond.
   */
  maxDelayMs?: number;
  /**
   * Attempts per request before giving up with `RetriesExhaustedError`. Unset: no limit on the
   * number of attempts.
   * @default undefined (unlimited)
   */
  maxAttempts?: number;
  /**
   * Time a send call may spend retrying, in ms from its start: no retry starts (and no wait
   * ends) later; the call then throws `RetriesExhaustedError` (`retryable: true`). A daemon sets
   * it below its poll interval and sends its newest states on the next poll. Per call:
   * `maxRetryElapsedMs`.
   * @default undefined (unlimited)
   */
  maxElapsedMs?: number;
}

/**
 * Which Teleopti server generation the client talks to (docs/teleopti-rta.md#server-generations).
 * `current` and `synchronous` use the same requests; `snapshot-id` sends snapshots with a
 * top-level `SnapshotId` and closes them with `Rta/State/CloseSnapshot`. The oldest, array-body
 * generation is not supported.
 */
export type RtaServerGeneration = 'current' | 'synchronous' | 'snapshot-id';

/** Why an attempt is retried. */
export type RtaRetryReason = 'server-error' | 'timeout' | 'network';

/** Which request a hook refers to. */
export type RtaRequestKind = 'batch' | 'snapshot' | 'close-snapshot';

/** Passed to `onRetry` before the client waits and retries. */
export interface RtaRetryEvent {
  /** The request that failed. */
  kind: RtaRequestKind;
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  /** How long the client waits before the next attempt, in ms. */
  delayMs: number;
  /** Why the attempt failed. */
  reason: RtaRetryReason;
  /** HTTP status, for `server-error`. */
  status?: number;
  /** Server message or transport error (never contains the authentication key). */
  message: string;
  /** Number of states in the request. */
  states: number;
}

/** Passed to `onRequest` after each attempt. */
export interface RtaRequestEvent {
  /** The request made. */
  kind: RtaRequestKind;
  /** 1-based attempt number for this request. */
  attempt: number;
  /** What happened: accepted (2xx), will be retried, rejected (400, not retried), or fatal. */
  outcome: 'accepted' | 'retry' | 'rejected' | 'fatal' | 'aborted';
  /** HTTP status, when the server answered. */
  status?: number;
  /** Time from sending to the end of the answer (or the failure), in ms. */
  durationMs: number;
  /** Number of states in the request. */
  states: number;
}

/** Options of `new TeleoptiRtaClient(options)`. Validated at construction; unknown keys are rejected. */
export interface TeleoptiRtaClientOptions {
  /**
   * Base URL of the Teleopti WFM web application; `Rta/State/Batch` is resolved against it, so
   * `https://wfm.example.com/TeleoptiWFM/Web` posts to `…/TeleoptiWFM/Web/Rta/State/Batch`.
   */
  baseUrl: string | URL;
  /** The RTA authentication key configured in Teleopti. Never logged nor put in errors. */
  authenticationKey: string;
  /** The data source id configured in Teleopti for this Amazon Connect instance. */
  sourceId: string;
  /**
   * Most states per ordinary batch request (and per snapshot chunk on `snapshot-id` servers).
   * Snapshots are never split on `current` and `synchronous` servers.
   * @default 1000
   */
  chunkSize?: number;
  /**
   * The server generation (see {@link RtaServerGeneration}).
   * @default 'current' ('snapshot-id' with `legacy: true`)
   */
  generation?: RtaServerGeneration;
  /**
   * @deprecated Use `generation: 'snapshot-id'`. `true` selects that generation.
   * @default false
   */
  legacy?: boolean;
  /**
   * Time limit of one attempt (connect, send, and read the answer), in ms. A timed-out attempt is
   * retried.
   * @default 30000
   */
  timeoutMs?: number;
  /** Retry policy. */
  retry?: RtaRetryOptions;
  /**
   * PEM certificate(s) of the CA(s) to trust for HTTPS instead of Node's bundled roots (e.g. a
   * company CA that signed the WFM server's certificate).
   * @default undefined (Node's bundled root CAs)
   */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Logger for requests, retries and rejections. Nothing is logged without one. */
  logger?: Logger;
  /** Called before each retry wait. Exceptions thrown by the hook are logged and ignored. */
  onRetry?: (event: RtaRetryEvent) => void;
  /** Called after each attempt. Exceptions thrown by the hook are logged and ignored. */
  onRequest?: (event: RtaRequestEvent) => void;
}

/** Options of one send call. */
export interface RtaSendOptions {
  /** Aborts the call: an in-flight request is cancelled, a retry wait ends, `RtaAbortedError` is thrown. */
  signal?: AbortSignal;
  /**
   * This call's retry time, in ms (overrides `retry.maxElapsedMs`): see
   * {@link RtaRetryOptions.maxElapsedMs}.
   */
  maxRetryElapsedMs?: number;
}

/** Options of `sendSnapshot`. */
export interface RtaSnapshotOptions extends RtaSendOptions {
  /**
   * `snapshot-id` servers only: the `SnapshotId` put on each chunk and closed afterwards. The
   * server reads it as a date-time, so it must be one (`InvalidSendOptionsError` otherwise,
   * before anything is sent).
   * @default the current time as an ISO-8601 string
   */
  snapshotId?: string;
}

/** What one `sendStates` / `sendSnapshot` call did. */
export interface RtaSendReport {
  /** HTTP requests made, retries included. */
  requests: number;
  /** Attempts that were retried (5xx, timeout, network error). */
  retries: number;
  /** Requests the server accepted (2xx). */
  acceptedRequests: number;
  /** States in accepted requests. */
  statesSent: number;
  /**
   * User codes the server has no person for ("No person found for UserCode X", answered by
   * synchronous and older servers), in the order met. Their states were set aside and the rest
   * was delivered. Current servers never name them (they drop such states later, answering
   * 200), so this stays empty there: see docs/teleopti-rta.md#what-the-client-cannot-detect.
   */
  rejectedUsers: readonly string[];
  /**
   * States left out because a later state of the same user (user codes compared
   * case-insensitively, as the server does) was in the same call: each user is sent once.
   */
  superseded: number;
  /**
   * Batches the server rejected (400 or a content 500; not fatal, not retried): `sendStates`
   * only; plus one entry with `resentWithout: true` per "No person found for UserCode X" answer,
   * naming the users whose states were set aside before the rest was sent again.
   */
  rejected: RejectedBatchError[];
  /** Wall time of the call, in ms. */
  durationMs: number;
}

/** Totals since the client was created; see `client.counters()`. */
export interface RtaClientCounters {
  /** HTTP requests made. */
  requests: number;
  /** Requests answered 2xx. */
  acceptedRequests: number;
  /** States in accepted requests. */
  statesSent: number;
  /** Retries scheduled. */
  retries: number;
  /** Attempts answered 5xx (or 408/429). */
  serverErrors: number;
  /** Attempts that timed out. */
  timeouts: number;
  /** Attempts that failed in transport (connection refused/reset, DNS, …). */
  networkErrors: number;
  /** Requests answered with a non-fatal 400 (including those sent again without unknown users). */
  rejectedBatches: number;
  /** States not delivered because of a non-fatal rejection (unknown users' states included). */
  rejectedStates: number;
  /** Snapshots completed. */
  snapshots: number;
}
