import { redactSecrets, sanitizeCause } from '@connect-wfm/core';
import { ConnectError, OperationError, STATUS } from './connection.js';
import {
  SftpAuthError,
  SftpBodyError,
  SftpConnectionError,
  type SftpErrorCode,
  SftpHostKeyError,
  SftpRemoteError,
  SftpUploadError,
} from './errors.js';
import { escapeControls } from './text.js';
import { BodyReadError } from './transfer.js';

/** A failure, classified: what it means and whether retrying can help. */
export interface Failure {
  code: SftpErrorCode;
  retryable: boolean;
  /** What went wrong, in words (no secrets). */
  reason: string;
  /** What to do about it. */
  hint: string;
  cause: unknown;
  statusCode?: number | undefined;
  hostKey?: { expected: string; presented: string } | undefined;
}

const TRANSIENT_NET = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTCONN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

const RETRY_HINT = 'It was retried with backoff; check that the server is up and reachable.';

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What replaces a quoted text that contains a secret. */
export const WITHHELD = '[text withheld: it contained a secret]';

/**
 * Text quoted from elsewhere (ssh2, the server) for a message, by position: the quoted fragment
 * as a whole is withheld when any secret shows in it (raw, JSON-escaped or URL-encoded; secrets
 * shorter than 8 characters only as a whole word), otherwise it is kept with its control
 * characters escaped. The package's own text around it is never searched, so a password that
 * equals a word of a message cannot be revealed by which word went missing. See
 * DESIGN.md#secrets-in-messages.
 *
 * @example
 * quoteForeign('connect ECONNREFUSED 127.0.0.1:22', ['hunter2-secret']); // unchanged
 * quoteForeign('bad key hunter2-secret', ['hunter2-secret']); // WITHHELD
 */
export function quoteForeign(text: string, secrets: readonly string[]): string {
  return redactSecrets(text, secrets) === text ? escapeControls(text) : WITHHELD;
}

/**
 * A cause for a public error: itself when no secret shows anywhere in it (message, stack, fields,
 * cause chain), otherwise a plain `Error` that says it was withheld and keeps only the `code`.
 */
export function foreignCause(cause: unknown, secrets: readonly string[]): unknown {
  if (cause === undefined || sanitizeCause(cause, secrets) === cause) return cause;
  const code = (cause as { code?: unknown } | null)?.code;
  const withheld = new Error(`the underlying error was withheld: it contained a secret`);
  if (typeof code === 'string' || typeof code === 'number') {
    Object.assign(withheld, { code });
  }
  return withheld;
}

const STATUS_NAME: Record<number, string> = {
  [STATUS.NO_SUCH_FILE]: 'no such file',
  [STATUS.PERMISSION_DENIED]: 'permission denied',
  [STATUS.FAILURE]: 'failure',
  [STATUS.BAD_MESSAGE]: 'bad message',
  [STATUS.NO_CONNECTION]: 'no connection',
  [STATUS.CONNECTION_LOST]: 'connection lost',
  [STATUS.OP_UNSUPPORTED]: 'operation unsupported',
};

function classifyConnect(err: ConnectError, quote: (text: string) => string): Failure {
  if (err.hostKey !== undefined) {
    const { expected, presented, reason } = err.hostKey;
    return {
      code: 'HOST_KEY_MISMATCH',
      retryable: false,
      reason:
        reason === 'pin'
          ? `the server presented host key ${presented} but hostKeySha256 pins ${expected}; the connection was refused before authentication`
          : `the server's host key changed from ${expected} to ${presented} since this uploader first connected; the connection was refused before authentication`,
      hint: 'This may be a man-in-the-middle. If the key was changed on purpose, verify it out of band (ssh-keyscan -t ed25519 <host> | ssh-keygen -lf -) and update hostKeySha256.',
      cause: err.original,
      hostKey: { expected, presented },
    };
  }
  const original = err.original as { level?: unknown; code?: unknown } | undefined;
  const level = typeof original?.level === 'string' ? original.level : undefined;
  const code = typeof original?.code === 'string' ? original.code : undefined;
  if (level === 'client-authentication') {
    return {
      code: 'AUTHENTICATION_FAILED',
      retryable: false,
      reason: 'the server refused the credentials (all configured authentication methods failed)',
      hint: 'Check username, password, privateKey and passphrase; authentication failures are not retried.',
      cause: err.original,
    };
  }
  if (level === 'client-timeout') {
    return {
      code: 'TIMEOUT',
      retryable: true,
      reason: `the connection did not become ready in time (${quote(messageOf(err.original))})`,
      hint: RETRY_HINT,
      cause: err.original,
    };
  }
  if (
    level === 'handshake' ||
    level === 'protocol' ||
    /^Unsupported algorithm/.test(messageOf(err.original))
  ) {
    return {
      code: 'CONNECTION_FAILED',
      retryable: false,
      reason: `the SSH handshake failed: ${quote(messageOf(err.original))}`,
      hint: 'The client and server share no algorithm or the server is not an SSH server; check host, port and the ciphers option.',
      cause: err.original,
    };
  }
  return {
    code: 'CONNECTION_FAILED',
    retryable: true,
    reason: `cannot connect${code !== undefined && TRANSIENT_NET.has(code) ? ` (${code})` : ''}: ${quote(messageOf(err.original))}`,
    hint: RETRY_HINT,
    cause: err.original,
  };
}

function classifyOperation(err: OperationError, quote: (text: string) => string): Failure {
  const what = `SFTP ${err.operation} of "${err.path}"`;
  if (err.kind === 'timeout') {
    return {
      code: 'TIMEOUT',
      retryable: true,
      reason: `${what} stalled: ${quote(messageOf(err.original))}`,
      hint: RETRY_HINT,
      cause: err.original,
    };
  }
  if (err.kind === 'lost') {
    return {
      code: 'CONNECTION_FAILED',
      retryable: true,
      reason: `the connection was lost during ${what} (${quote(messageOf(err.original))})`,
      hint: RETRY_HINT,
      cause: err.original,
    };
  }
  const status = err.statusCode;
  if (status === STATUS.NO_CONNECTION || status === STATUS.CONNECTION_LOST) {
    return {
      code: 'CONNECTION_FAILED',
      retryable: true,
      reason: `the connection was lost during ${what}`,
      hint: RETRY_HINT,
      cause: err.original,
      statusCode: status,
    };
  }
  const statusText = describeStatus(status, quote(messageOf(err.original)));
  if (status === STATUS.PERMISSION_DENIED) {
    return {
      code: 'PERMISSION_DENIED',
      retryable: false,
      reason: `the server denied ${what}: ${statusText}`,
      hint: 'Check the remote user permissions on that directory; not retried.',
      cause: err.original,
      statusCode: status,
    };
  }
  return {
    code: 'REMOTE_FAILURE',
    retryable: false,
    reason: `${what} failed: ${statusText}`,
    hint: 'The server refused the operation (for example a full disk or an unsupported request); not retried.',
    cause: err.original,
    statusCode: status,
  };
}

/**
 * The status in words, keeping the server's own text ("No space left on device") when it says
 * more than the bare status name.
 */
function describeStatus(status: number | undefined, serverText: string): string {
  if (status === undefined) return serverText;
  const name = STATUS_NAME[status];
  if (name === undefined) return `${serverText} (SFTP status ${status})`;
  const text = serverText.trim();
  return text === '' || text.toLowerCase() === name
    ? `${name} (SFTP status ${status})`
    : `${name} (SFTP status ${status}: ${text})`;
}

/** Carries an already classified failure out of the upload steps. */
export class FailureError extends Error {
  override readonly name = 'FailureError';
  constructor(readonly failure: Failure) {
    super(failure.reason);
  }
}

/**
 * Classifies anything thrown while uploading. Text quoted from the error goes through
 * {@link quoteForeign} with `secrets`.
 */
export function classify(err: unknown, secrets: readonly string[] = []): Failure {
  const quote = (text: string) => quoteForeign(text, secrets);
  if (err instanceof FailureError) return err.failure;
  if (err instanceof SftpUploadError) {
    return {
      code: err.code,
      retryable: err.retryable,
      reason: err.message,
      hint: '',
      cause: err.cause,
      statusCode: err instanceof SftpRemoteError ? err.statusCode : undefined,
    };
  }
  if (err instanceof ConnectError) return classifyConnect(err, quote);
  if (err instanceof OperationError) return classifyOperation(err, quote);
  if (err instanceof BodyReadError) {
    return {
      code: 'BODY_FAILED',
      retryable: false,
      reason: `reading the body failed: ${quote(messageOf(err.original))}`,
      hint: 'Nothing was published; fix the source stream and upload again.',
      cause: err.original,
    };
  }
  return {
    code: 'REMOTE_FAILURE',
    retryable: false,
    reason: `unexpected error: ${quote(messageOf(err))}`,
    hint: '',
    cause: err,
  };
}

/** Builds the public error for a failure of one file. */
export function toPublicError(
  failure: Failure,
  context: { file: string; server: string; remotePath: string; attempts: number },
  secrets: readonly string[],
): SftpUploadError {
  const tries = context.attempts > 1 ? ` after ${context.attempts} attempts` : '';
  const hint =
    failure.hint === RETRY_HINT && context.attempts <= 1
      ? 'It was not retried (retry.maxAttempts is 1); check that the server is up and reachable.'
      : failure.hint;
  // Secrets are never put into messages, and text quoted from elsewhere went through
  // quoteForeign when the failure was classified: the message is not searched as a whole.
  const message = `Upload of ${JSON.stringify(context.file)} to sftp://${context.server}/${context.remotePath.replace(/^\//, '')} failed${tries}: ${failure.reason}.${hint ? ` ${hint}` : ''}`;
  const details = {
    file: context.file,
    server: context.server,
    attempts: context.attempts,
    cause: foreignCause(failure.cause, secrets),
  };
  switch (failure.code) {
    case 'HOST_KEY_MISMATCH':
      return new SftpHostKeyError(
        message,
        failure.hostKey ?? { expected: '', presented: '' },
        details,
      );
    case 'AUTHENTICATION_FAILED':
      return new SftpAuthError(message, details);
    case 'CONNECTION_FAILED':
    case 'TIMEOUT':
      return new SftpConnectionError(failure.code, message, {
        ...details,
        retryable: failure.retryable,
      });
    case 'PERMISSION_DENIED':
    case 'DIRECTORY_UNAVAILABLE':
    case 'REMOTE_FAILURE':
    case 'NOT_RESUMABLE':
      return new SftpRemoteError(failure.code, message, {
        ...details,
        statusCode: failure.statusCode,
      });
    case 'BODY_FAILED':
      return new SftpBodyError(message, details);
    default:
      return new SftpUploadError(failure.code, message, failure.retryable, details);
  }
}
