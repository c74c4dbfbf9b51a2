/**
 * Public option and result types of @connect-wfm/teleopti-rta-client.
 */
import type { RejectedBatchError } from './errors.js';

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

/** A logger the client writes to. Compatible with `console`, Powertools Logger and most others. */
export interface RtaLogger {
  /** Per-request details. */
  debug(message: string, details?: Record<string, unknown>): void;
  /** Snapshots sent. */
  info(message: string, details?: Record<string, unknown>): void;
  /** Retries and rejected batches. */
  warn(message: string, details?: Record<string, unknown>): void;
  /** Fatal errors. */
  error(message: string, details?: Record<string, unknown>): void;
}

/** Retry policy for 5xx answers, timeouts and network errors (exponential backoff, full jitter). */
export interface RtaRetryOptions {
  /**
   * Upper bound of the first retry's delay, in ms. Each retry waits a random time between 0 and
   * `min(maxDelayMs, initialDelayMs * multiplier ** (retry - 1))`.
   * @default 250
   */
  initialDelayMs?: number;
  /**
   * Largest upper bound of a retry delay, in ms. A 503/429 `Retry-After` header lengthens the wait
   * up to this, never beyond.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * Growth factor of the delay bound per retry (at least 1).
   * @default 2
   */
  multiplier?: number;
  /**
   * Attempts per request before giving up with `RetriesExhaustedError`. Unset means "retry until
   * success or until the caller aborts", which is what a daemon wants.
   * @default undefined (unlimited)
   */
  maxAttempts?: number;
}

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
   * Most states per ordinary batch request. Snapshots are never split (current API).
   * @default 1000
   */
  chunkSize?: number;
  /**
   * Talk to an older server: at most 50 states per request, snapshots sent with a per-state
   * `SnapshotId` and closed with `POST Rta/State/CloseSnapshot`.
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
  logger?: RtaLogger;
  /** Called before each retry wait. Exceptions thrown by the hook are logged and ignored. */
  onRetry?: (event: RtaRetryEvent) => void;
  /** Called after each attempt. Exceptions thrown by the hook are logged and ignored. */
  onRequest?: (event: RtaRequestEvent) => void;
}

/** Options of one send call. */
export interface RtaSendOptions {
  /** Aborts the call: an in-flight request is cancelled, a retry wait ends, `RtaAbortedError` is thrown. */
  signal?: AbortSignal;
}

/** Options of `sendSnapshot`. */
export interface RtaSnapshotOptions extends RtaSendOptions {
  /**
   * Legacy mode only: the `SnapshotId` put on each state and closed afterwards. Must contain a
   * character other than white space (`InvalidSendOptionsError` otherwise, before anything is sent).
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
   * Batches the server rejected with 400 (not fatal, not retried): `sendStates` only; plus, in
   * legacy mode (`sendStates` and `sendSnapshot`), one entry with `resentWithout: true` per
   * "No person found for UserCode X" answer, naming the users whose states were left out before
   * the rest was sent again.
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
  /** Requests answered with a non-fatal 400 (legacy: including those sent again without unknown users). */
  rejectedBatches: number;
  /** States not delivered because of a non-fatal 400 (legacy: only the left-out users' states). */
  rejectedStates: number;
  /** Snapshots completed. */
  snapshots: number;
}
