import { inspect } from 'node:util';
import { ConnectError, OperationError, STATUS } from '../../src/connection.js';
import { SftpConnectionError, SftpHostKeyError, SftpRemoteError } from '../../src/errors.js';
import { classify, quoteForeign, toPublicError, WITHHELD } from '../../src/failures.js';
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
  const refused = () => new ConnectError(netError('ECONNREFUSED'), undefined);

  it('names the file, the server and the attempts, and withholds quoted text holding a secret', () => {
    const secret = 'p4ssw0rd-secret';
    const failure = classify(
      new ConnectError(
        Object.assign(new Error(`socket said ${secret}`), { code: 'ECONNRESET' }),
        undefined,
      ),
      [secret],
    );
    const error = toPublicError(failure, { ...ctx, attempts: 4 }, [secret]);
    expect(error).toBeInstanceOf(SftpConnectionError);
    expect(error.message).toMatch(
      /^Upload of "a.csv" to sftp:\/\/h:22\/in\/a.csv failed after 4 attempts/,
    );
    expect(error).toMatchObject({ file: 'a.csv', server: 'h:22', attempts: 4, retryable: true });
    expect(error.message).toContain(`cannot connect (ECONNRESET): ${WITHHELD}`);
    expect(inspect(error, { showHidden: true, depth: null })).not.toContain(secret);
    expect(error.cause).toMatchObject({ code: 'ECONNRESET' });
  });

  it.each(['Upload', 'of', 'failed', 'after', 'sftp', 'h', 'a.csv'])(
    'does not reveal a password equal to a word of its own text (%j)',
    (password) => {
      const plain = toPublicError(classify(refused(), []), { ...ctx, attempts: 4 }, []);
      const error = toPublicError(classify(refused(), [password]), { ...ctx, attempts: 4 }, [
        password,
      ]);
      expect(error.message).toBe(plain.message);
      expect(error.message).not.toContain('[redacted]');
      expect(error.message).not.toContain(WITHHELD);
    },
  );

  it('withholds a quoted fragment as a whole, never a word of it', () => {
    // "connect" is a word of ssh2's text: the fragment goes, and nothing shows which word it was.
    const error = toPublicError(classify(refused(), ['connect']), ctx, ['connect']);
    expect(error.message).toContain(`cannot connect (ECONNREFUSED): ${WITHHELD}.`);
    expect(error.message).not.toContain('127.0.0.1');
  });

  it('treats a short secret inside a longer word as absent, and as a whole word as present', () => {
    expect(quoteForeign('Permission denied', ['e'])).toBe('Permission denied');
    expect(quoteForeign('server said p', ['p'])).toBe(WITHHELD);
  });

  it('finds JSON-escaped and URL-encoded secrets, in the text and the whole cause chain', () => {
    const secret = 'p4ss"w0rd/secret';
    expect(quoteForeign(`said ${JSON.stringify(secret)}`, [secret])).toBe(WITHHELD);
    expect(quoteForeign(`login?pw=${encodeURIComponent(secret)}`, [secret])).toBe(WITHHELD);
    const failure = classify(refused(), [secret]);
    failure.cause = new Error('outer', {
      cause: new Error(`login?pw=${encodeURIComponent(secret)}`, { cause: `said ${secret}` }),
    });
    const error = toPublicError(failure, ctx, [secret]);
    const text = inspect(error, { showHidden: true, depth: null });
    expect(text).not.toContain(secret);
    expect(text).not.toContain(encodeURIComponent(secret));
    expect((error.cause as Error).message).toContain('withheld');
  });

  it('keeps no secret held in the fields of a cause, however deep', () => {
    const password = 'p4ssw0rd-secret';
    const failure = classify(refused(), [password]);
    failure.cause = Object.assign(new Error('auth failed'), {
      code: 'EAUTH',
      cause: Object.assign(new Error('parse failed'), { config: { password }, level: 'auth' }),
    });
    const error = toPublicError(failure, ctx, [password]);
    expect(inspect(error, { showHidden: true, depth: null })).not.toContain(password);
    expect(error.cause).toMatchObject({ code: 'EAUTH' });
  });

  it('keeps a cause holding no secret as it is', () => {
    const failure = classify(refused(), ['p4ssw0rd-secret']);
    expect(toPublicError(failure, ctx, ['p4ssw0rd-secret']).cause).toBe(failure.cause);
  });

  it('escapes control characters in quoted text', () => {
    const status = classify(
      new OperationError(
        'write',
        '/x',
        sftpStatus(STATUS.FAILURE, 'bad\u001b[2J\r\nthing'),
        'status',
      ),
    );
    expect(status.reason).toContain('bad\\u001b[2J\\u000d\\u000athing');
    expect([...status.reason].some((c) => (c.codePointAt(0) as number) < 0x20)).toBe(false);
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
