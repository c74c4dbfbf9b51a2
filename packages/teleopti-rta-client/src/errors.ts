/**
 * Errors of @connect-wfm/teleopti-rta-client. Every error is a {@link TeleoptiRtaError} (a
 * `ConnectWfmError` of @connect-wfm/core) with a string-literal `code`, `retryable` (trying the
 * same call again later may succeed) and `fatal` (retrying will not help, fix the configuration:
 * a daemon should stop and report it). No error ever contains the authentication key.
 */
import { type ConfigProblem, ConnectWfmError, formatConfigProblems } from '@connect-wfm/core';
import { isError } from './error-like.js';
import type { RtaSendReport } from './types.js';

/** Every code a {@link TeleoptiRtaError} can carry. */
export type TeleoptiRtaErrorCode =
  | 'INVALID_CONFIG'
  | 'INVALID_STATE'
  | 'INVALID_SEND_OPTIONS'
  | 'INVALID_AUTHENTICATION_KEY'
  | 'UNKNOWN_SOURCE'
  | 'REJECTED_BATCH'
  | 'NO_LOGGED_OUT_STATE_GROUP'
  | 'UNEXPECTED_STATUS'
  | 'TLS_CERTIFICATE'
  | 'RETRIES_EXHAUSTED'
  | 'ABORTED'
  | 'CLIENT_CLOSED';

/**
 * Base class of every error thrown by this package.
 *
 * @example
 * try {
 *   await client.sendStates(states, { signal });
 * } catch (err) {
 *   if (err instanceof TeleoptiRtaError && err.fatal) process.exit(78);
 *   throw err;
 * }
 */
export class TeleoptiRtaError extends ConnectWfmError<TeleoptiRtaErrorCode> {
  /** True when retrying cannot help: the configuration (key, source id, URL, CA) must be fixed. */
  readonly fatal: boolean;
  /** What the failed call had done before failing (set when thrown by a send call). */
  report?: RtaSendReport;

  constructor(
    code: TeleoptiRtaErrorCode,
    message: string,
    fatal: boolean,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(code, message, {
      ...(options?.cause === undefined ? {} : { cause: options.cause }),
      retryable: options?.retryable ?? false,
    });
    this.name = 'TeleoptiRtaError';
    this.fatal = fatal;
  }

  /** A plain object for structured logs: name, code, fatal, message, own fields, cause message. */
  toJSON(): Record<string, unknown> {
    const cause = this.cause;
    return {
      ...Object.fromEntries(Object.entries(this)),
      name: this.name,
      message: this.message,
      ...(cause === undefined
        ? {}
        : { cause: isError(cause) ? `${cause.name}: ${cause.message}` : String(cause) }),
    };
  }
}

/**
 * The client options are invalid (every problem is listed). Fatal.
 *
 * @example
 * new TeleoptiRtaClient({ baseUrl: 'ftp://x', authenticationKey: '', sourceId: '1' }); // throws
 */
export class RtaClientConfigError extends TeleoptiRtaError {
  override readonly code = 'INVALID_CONFIG' as const;
  /** Every problem found: `path` (`''` for the options object itself) and `message`. */
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(
      'INVALID_CONFIG',
      `Invalid Teleopti RTA client options: ${formatConfigProblems(problems)}. Fix these options and restart.`,
      true,
    );
    this.name = 'RtaClientConfigError';
    this.problems = problems;
  }
}

/**
 * States passed to a send call cannot be sent: an empty user code, an empty state code, or one over
 * 300 characters (the server would answer 500 forever). Nothing was sent. Not fatal.
 *
 * @example
 * await client.sendStates([{ userCode: 'a', stateCode: '', stateDescription: '' }]); // throws
 */
export class InvalidStateError extends TeleoptiRtaError {
  override readonly code = 'INVALID_STATE' as const;
  /** User codes (or positions) of the invalid states. */
  readonly userCodes: string[];

  constructor(problems: string[], userCodes: string[]) {
    const shown = problems.slice(0, 10).join('; ');
    const more = problems.length > 10 ? ` (+${problems.length - 10} more)` : '';
    super(
      'INVALID_STATE',
      `${problems.length} state(s) cannot be sent to Teleopti RTA: ${shown}${more}. Nothing was sent; fix the states (a state code is 1 to 300 characters, a user code is not empty).`,
      false,
    );
    this.name = 'InvalidStateError';
    this.userCodes = userCodes;
  }
}

/**
 * The options of one send call are invalid (e.g. an empty legacy `snapshotId`). Nothing was sent.
 * Not fatal: the client is fine, fix the call.
 *
 * @example
 * await legacyClient.sendSnapshot(states, { snapshotId: '' }); // throws InvalidSendOptionsError
 */
export class InvalidSendOptionsError extends TeleoptiRtaError {
  override readonly code = 'INVALID_SEND_OPTIONS' as const;
  /** One line per problem, `option: message`. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(
      'INVALID_SEND_OPTIONS',
      `Invalid options for this Teleopti RTA send call: ${problems.join('; ')}. Nothing was sent; fix the call.`,
      false,
    );
    this.name = 'InvalidSendOptionsError';
    this.problems = problems;
  }
}

/**
 * The server rejected the authentication key (400). Fatal.
 *
 * @example
 * if (err instanceof InvalidAuthenticationKeyError) logger.error('fix RTA_AUTHENTICATION_KEY');
 */
export class InvalidAuthenticationKeyError extends TeleoptiRtaError {
  override readonly code = 'INVALID_AUTHENTICATION_KEY' as const;
  /** HTTP status (400). */
  readonly status: number;
  /** The server's message (any echo of the key removed). */
  readonly serverMessage: string;

  constructor(endpoint: string, status: number, serverMessage: string) {
    super(
      'INVALID_AUTHENTICATION_KEY',
      `Teleopti RTA at ${endpoint} rejected the authentication key (${status}: "${serverMessage}"). Check the RTA authentication key configured for this client against Teleopti's; the key itself is never shown.`,
      true,
    );
    this.name = 'InvalidAuthenticationKeyError';
    this.status = status;
    this.serverMessage = serverMessage;
  }
}

/**
 * The server does not know the source id, or it was missing (400). Fatal.
 *
 * @example
 * if (err instanceof UnknownSourceError) logger.error(`configure source ${err.sourceId} in Teleopti`);
 */
export class UnknownSourceError extends TeleoptiRtaError {
  override readonly code = 'UNKNOWN_SOURCE' as const;
  /** HTTP status (400). */
  readonly status: number;
  /** The source id sent. */
  readonly sourceId: string;
  /** The server's message. */
  readonly serverMessage: string;

  constructor(endpoint: string, sourceId: string, status: number, serverMessage: string) {
    super(
      'UNKNOWN_SOURCE',
      `Teleopti RTA at ${endpoint} does not accept source id "${sourceId}" (${status}: "${serverMessage}"). Configure this data source in Teleopti or fix the client's sourceId.`,
      true,
    );
    this.name = 'UnknownSourceError';
    this.status = status;
    this.sourceId = sourceId;
    this.serverMessage = serverMessage;
  }
}

/**
 * The server rejected one batch with 400 for another reason (e.g. "No person found for UserCode …"
 * on older servers). The batch is not retried; other batches go on. Not fatal.
 *
 * In legacy mode, when the message names user codes of the batch ("No person found for UserCode
 * X"), the client sends the batch again without them: the error in `report.rejected` then has
 * `resentWithout: true` and `userCodes` holds only the left-out user codes.
 *
 * @example
 * const report = await client.sendStates(states);
 * for (const r of report.rejected) logger.warn(r.message, { userCodes: r.userCodes });
 */
export class RejectedBatchError extends TeleoptiRtaError {
  override readonly code = 'REJECTED_BATCH' as const;
  /** HTTP status (400). */
  readonly status: number;
  /** The server's message. */
  readonly serverMessage: string;
  /**
   * User codes of every state in the rejected batch, in order; with `resentWithout`, only the
   * user codes the server named, whose states were left out.
   */
  readonly userCodes: string[];
  /**
   * True when the rest of the batch was sent again without `userCodes` (legacy "No person found
   * for UserCode …"); false when the whole batch was given up.
   */
  readonly resentWithout: boolean;

  constructor(
    endpoint: string,
    status: number,
    serverMessage: string,
    userCodes: string[],
    options: { resentWithout?: boolean } = {},
  ) {
    const shown = userCodes.slice(0, 5).join(', ');
    const more = userCodes.length > 5 ? ` … (+${userCodes.length - 5} more)` : '';
    const resentWithout = options.resentWithout === true;
    super(
      'REJECTED_BATCH',
      resentWithout
        ? `Teleopti RTA at ${endpoint} has no person for ${userCodes.length} user code(s) of a batch (${status}: "${serverMessage}"): ${shown || '(none)'}${more}. Their states were left out and the rest of the batch was sent again. Check that these agents have an external logon for this source in Teleopti.`
        : `Teleopti RTA at ${endpoint} rejected a batch of ${userCodes.length} state(s) (${status}: "${serverMessage}"); it is not retried. User codes: ${shown || '(none)'}${more}. Check that these agents have an external logon for this source in Teleopti.`,
      false,
    );
    this.name = 'RejectedBatchError';
    this.status = status;
    this.serverMessage = serverMessage;
    this.userCodes = userCodes;
    this.resentWithout = resentWithout;
  }
}

/**
 * A snapshot was answered 500 `No Logged out StateGroup found`: no state group is flagged as
 * logged-out in Teleopti. A synchronous server applied the snapshot's states but logged nobody
 * out. Fatal and not retryable: flag a logged-out state group in Teleopti's options.
 *
 * @example
 * if (err instanceof NoLoggedOutStateGroupError) logger.error(err.message);
 */
export class NoLoggedOutStateGroupError extends TeleoptiRtaError {
  override readonly code = 'NO_LOGGED_OUT_STATE_GROUP' as const;
  /** HTTP status (500). */
  readonly status: number;
  /** The server's message. */
  readonly serverMessage: string;

  constructor(endpoint: string, status: number, serverMessage: string) {
    super(
      'NO_LOGGED_OUT_STATE_GROUP',
      `Teleopti RTA at ${endpoint} has no state group flagged as logged-out (${status}: "${serverMessage}"), so a snapshot cannot log agents out; the states were applied, nobody was logged out. Flag one state group as logged-out in Teleopti's RTA options.`,
      true,
    );
    this.name = 'NoLoggedOutStateGroupError';
    this.status = status;
    this.serverMessage = serverMessage;
  }
}

/**
 * The server answered a status the API does not use (404, 401, 403, 413, …): most likely a wrong
 * base URL, a proxy in the way, or (404 on CloseSnapshot) `legacy: true` against a current server. Fatal.
 *
 * @example
 * if (err instanceof RtaHttpError && err.status === 404) logger.error('check RTA base URL');
 */
export class RtaHttpError extends TeleoptiRtaError {
  override readonly code = 'UNEXPECTED_STATUS' as const;
  /** HTTP status answered. */
  readonly status: number;
  /** The server's message or status text. */
  readonly serverMessage: string;

  constructor(endpoint: string, status: number, serverMessage: string) {
    super(
      'UNEXPECTED_STATUS',
      `Teleopti RTA at ${endpoint} answered ${status} ("${serverMessage}"), which the RTA API does not use. Check the base URL, any proxy in between, and the legacy setting.`,
      true,
    );
    this.name = 'RtaHttpError';
    this.status = status;
    this.serverMessage = serverMessage;
  }
}

/**
 * The server's TLS certificate could not be verified (unknown CA, self-signed, expired, wrong host
 * name). Fatal: set the `ca` option or fix the server certificate.
 *
 * @example
 * if (err instanceof TlsCertificateError) logger.error(err.message);
 */
export class TlsCertificateError extends TeleoptiRtaError {
  override readonly code = 'TLS_CERTIFICATE' as const;
  /** The TLS error code (e.g. `SELF_SIGNED_CERT_IN_CHAIN`). */
  readonly tlsCode: string;

  constructor(endpoint: string, tlsCode: string, cause: unknown) {
    super(
      'TLS_CERTIFICATE',
      `The TLS certificate of Teleopti RTA at ${endpoint} could not be verified (${tlsCode}). Give the client the issuing CA with the "ca" option, or fix the server's certificate.`,
      true,
      { cause },
    );
    this.name = 'TlsCertificateError';
    this.tlsCode = tlsCode;
  }
}

/**
 * `retry.maxAttempts` was reached, or the call's retry time (`maxRetryElapsedMs`,
 * `retry.maxElapsedMs`) ran out, without success. Not fatal and `retryable`: the server may
 * recover; a daemon sends its newest states on its next poll.
 *
 * @example
 * if (err instanceof RetriesExhaustedError) scheduleLater();
 */
export class RetriesExhaustedError extends TeleoptiRtaError {
  override readonly code = 'RETRIES_EXHAUSTED' as const;
  /** Attempts made. */
  readonly attempts: number;
  /** Which limit was reached. */
  readonly limit: 'max-attempts' | 'max-elapsed';

  constructor(
    endpoint: string,
    attempts: number,
    lastProblem: string,
    cause: unknown,
    limit: 'max-attempts' | 'max-elapsed' = 'max-attempts',
  ) {
    super(
      'RETRIES_EXHAUSTED',
      `Gave up on Teleopti RTA at ${endpoint} after ${attempts} attempt(s) (${limit === 'max-elapsed' ? 'retry time used up' : 'most attempts made'}); last problem: ${lastProblem}. The states not yet accepted were not delivered; send the newest ones again later.`,
      false,
      cause === undefined ? { retryable: true } : { cause, retryable: true },
    );
    this.name = 'RetriesExhaustedError';
    this.attempts = attempts;
    this.limit = limit;
  }
}

/**
 * The caller's `AbortSignal` fired. Its `name` is `AbortError`, like the DOM's, so generic abort
 * handling recognizes it; `cause` is the signal's reason. Not fatal.
 *
 * @example
 * controller.abort();
 * await expect(sending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
 */
export class RtaAbortedError extends TeleoptiRtaError {
  override readonly code = 'ABORTED' as const;

  constructor(what: string, reason: unknown) {
    super(
      'ABORTED',
      `${what} was aborted by the caller; states not yet accepted were not delivered.`,
      false,
      { cause: reason, retryable: true },
    );
    this.name = 'AbortError';
  }
}

/**
 * The client was closed with `close()`. Fatal (create a new client).
 *
 * @example
 * await client.close();
 * await client.sendStates(states); // throws RtaClientClosedError
 */
export class RtaClientClosedError extends TeleoptiRtaError {
  override readonly code = 'CLIENT_CLOSED' as const;

  constructor() {
    super('CLIENT_CLOSED', 'The Teleopti RTA client is closed; create a new one.', true);
    this.name = 'RtaClientClosedError';
  }
}
