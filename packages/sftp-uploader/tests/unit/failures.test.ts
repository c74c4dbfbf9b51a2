import { inspect } from 'node:util';
import { ConnectError, OperationError, STATUS } from '../../src/connection.js';
import { SftpConnectionError, SftpHostKeyError, SftpRemoteError } from '../../src/errors.js';
import { classify, toPublicError } from '../../src/failures.js';
import { BodyReadError } from '../../src/transfer.js';

const ctx = { file: 'a.csv', server: 'h:22', remotePath: '/in/a.csv', attempts: 1 };

function netError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:22`), { code });
}

function sftpStatus(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classify', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'])(
    'treats %s while connecting as transient',
    (code) => {
      expect(classify(new ConnectError(netError(code), undefined))).toMatchObject({
        code: 'CONNECTION_FAILED',
        retryable: true,
      });
    },
  );

  it('treats authentication failures and host key mismatches as permanent', () => {
    const auth = Object.assign(new Error('All configured authentication methods failed'), {
      level: 'client-authentication',
    });
    expect(classify(new ConnectError(auth, undefined))).toMatchObject({
      code: 'AUTHENTICATION_FAILED',
      retryable: false,
    });
    const mismatch = classify(
      new ConnectError(new Error('Host denied'), {
        expected: 'SHA256:a',
        presented: 'SHA256:b',
        reason: 'pin',
      }),
    );
    expect(mismatch).toMatchObject({ code: 'HOST_KEY_MISMATCH', retryable: false });
    expect(toPublicError(mismatch, ctx, [])).toBeInstanceOf(SftpHostKeyError);
  });

  it('treats handshake timeouts, stalled requests and lost connections as transient', () => {
    const timeout = Object.assign(new Error('Timed out while waiting for handshake'), {
      level: 'client-timeout',
    });
    expect(classify(new ConnectError(timeout, undefined))).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
    });
    expect(classify(new OperationError('write', '/x', new Error('slow'), 'timeout'))).toMatchObject(
      {
        code: 'TIMEOUT',
        retryable: true,
      },
    );
    expect(
      classify(new OperationError('write', '/x', new Error('No response from server'), 'lost')),
    ).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect(
      classify(
        new OperationError('open', '/x', sftpStatus(STATUS.CONNECTION_LOST, 'lost'), 'status'),
      ),
    ).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
  });

  it('treats SFTP refusals as permanent', () => {
    const denied = classify(
      new OperationError(
        'open',
        '/in/.a.csv.part',
        sftpStatus(STATUS.PERMISSION_DENIED, 'Permission denied'),
        'status',
      ),
    );
    expect(denied).toMatchObject({ code: 'PERMISSION_DENIED', retryable: false, statusCode: 3 });
    const error = toPublicError(denied, ctx, []);
    expect(error).toBeInstanceOf(SftpRemoteError);
    expect(error.message).toContain('"a.csv"');
    expect(error.message).toContain('/in/.a.csv.part');
    expect(
      classify(new OperationError('write', '/x', sftpStatus(STATUS.FAILURE, 'Failure'), 'status')),
    ).toMatchObject({ code: 'REMOTE_FAILURE', retryable: false });
    expect(classify(new BodyReadError(new Error('boom')))).toMatchObject({
      code: 'BODY_FAILED',
      retryable: false,
    });
  });
});

describe('toPublicError', () => {
  it('names the file, the server and the attempts, and redacts secrets everywhere', () => {
    const secret = 'p4ssw0rd-secret';
    const failure = classify(new ConnectError(netError('ECONNRESET'), undefined));
    failure.reason = `${failure.reason} (${secret})`;
    failure.cause = new Error(`socket said ${secret}`);
    const error = toPublicError(failure, { ...ctx, attempts: 4 }, [secret]);
    expect(error).toBeInstanceOf(SftpConnectionError);
    expect(error.message).toMatch(
      /^Upload of "a.csv" to sftp:\/\/h:22\/in\/a.csv failed after 4 attempts/,
    );
    expect(error).toMatchObject({ file: 'a.csv', server: 'h:22', attempts: 4, retryable: true });
    expect(error.message).not.toContain(secret);
    expect(String((error.cause as Error).message)).not.toContain(secret);
  });

  it('redacts a short secret only as a whole token, so messages stay readable', () => {
    const failure = classify(new ConnectError(netError('ECONNRESET'), undefined));
    failure.reason = `${failure.reason}: server said p`;
    const error = toPublicError(failure, ctx, ['p']);
    expect(error.message).toMatch(/^Upload of "a.csv" to sftp:\/\/h:22\/in\/a.csv failed: /);
    expect(error.message).toContain(': server said [redacted]');
    expect(error.message).not.toMatch(/\bp\b/);
  });

  it('redacts JSON-escaped and URL-encoded secrets and the whole cause chain', () => {
    const secret = 'p4ss"w0rd/secret';
    const failure = classify(new ConnectError(netError('ECONNRESET'), undefined));
    failure.reason = `${failure.reason} (${JSON.stringify(secret)})`;
    failure.cause = new Error('outer', {
      cause: new Error(`login?pw=${encodeURIComponent(secret)}`, { cause: `said ${secret}` }),
    });

    const error = toPublicError(failure, ctx, [secret]);

    expect(error.message).toContain('("[redacted]")');
    const inner = (error.cause as Error).cause as Error;
    expect(inner.message).toBe('login?pw=[redacted]');
    expect(inner.cause).toBe('said [redacted]');
    expect(String(inner.stack)).not.toContain(encodeURIComponent(secret));
  });

  it('keeps no secret held in the fields of a cause, however deep', () => {
    const password = 'p4ssw0rd-secret';
    const failure = classify(new ConnectError(netError('ECONNRESET'), undefined));
    failure.cause = new Error(`auth failed for ${password}`, {
      cause: Object.assign(new Error('parse failed'), { config: { password }, level: 'auth' }),
    });

    const error = toPublicError(failure, ctx, [password]);

    expect(inspect(error, { showHidden: true, depth: null })).not.toContain(password);
    expect(((error.cause as Error).cause as Error & { level: string }).level).toBe('auth');
  });

  it('does not claim a retry happened when maxAttempts is 1', () => {
    const failure = classify(new ConnectError(netError('ECONNREFUSED'), undefined));
    const once = toPublicError(failure, { ...ctx, attempts: 1 }, []);
    expect(once.message).not.toContain('retried with backoff');
    expect(once.message).toContain('not retried');
    const many = toPublicError(failure, { ...ctx, attempts: 3 }, []);
    expect(many.message).toContain('retried with backoff');
  });

  it("keeps the server's own status text, such as a full disk", () => {
    const full = classify(
      new OperationError(
        'write',
        '/in/.a.csv.part',
        sftpStatus(STATUS.FAILURE, 'No space left on device'),
        'status',
      ),
    );
    expect(full).toMatchObject({ code: 'REMOTE_FAILURE', statusCode: 4 });
    expect(full.reason).toContain('No space left on device');
    expect(full.reason).toContain('SFTP status 4');
    const plain = classify(
      new OperationError('write', '/x', sftpStatus(STATUS.FAILURE, 'Failure'), 'status'),
    );
    expect(plain.reason).toContain('failure (SFTP status 4)');
  });
});
