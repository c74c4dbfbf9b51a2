import { Readable } from 'node:stream';
import { ConnectWfmError } from '@connect-wfm/core';
import { generateSshKeyPair } from '@connect-wfm/testkit';
import {
  normalizeFingerprint,
  SftpClosedError,
  SftpConfigError,
  SftpUploader,
  sha256Fingerprint,
} from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';

describe('SftpUploader options', () => {
  it('reports every problem at once, without echoing values', () => {
    const secret = 'hunter2-very-secret';
    let err: unknown;
    try {
      new SftpUploader({
        host: '',
        port: 70000,
        username: 'u',
        password: secret,
        hostKeySha256: 'md5:aa:bb',
        unknownOption: true,
      } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SftpConfigError);
    const message = (err as Error).message;
    expect(err).toMatchObject({ code: 'INVALID_OPTIONS', retryable: false });
    expect(message).toContain('host');
    expect(message).toContain('port');
    expect(message).toContain('hostKeySha256');
    expect(message).toContain('unknownOption');
    expect(message).not.toContain(secret);
    expect((err as SftpConfigError).problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['host', 'port', 'hostKeySha256']),
    );
    expect(JSON.stringify((err as SftpConfigError).problems)).not.toContain(secret);
    expect(err).toBeInstanceOf(ConnectWfmError);
  });

  it('takes an optional option given as undefined exactly as one left out', () => {
    const given = { host: 'h', username: 'u', password: 'p' };
    const undefinedEverywhere = {
      ...given,
      port: undefined,
      privateKey: undefined,
      passphrase: undefined,
      hostKeySha256: undefined,
      remoteDir: undefined,
      createDirectories: undefined,
      fileMode: undefined,
      connectTimeoutMs: undefined,
      operationTimeoutMs: undefined,
      keepaliveIntervalMs: undefined,
      retry: {
        maxAttempts: undefined,
        baseMs: undefined,
        maxMs: undefined,
        jitter: undefined,
        baseDelayMs: undefined,
        maxDelayMs: undefined,
      },
      chunkSize: undefined,
      concurrency: undefined,
      ciphers: undefined,
      kexAlgorithms: undefined,
      macs: undefined,
      hostKeyAlgorithms: undefined,
      logger: undefined,
    };
    expect(resolveOptions(undefinedEverywhere)).toEqual(resolveOptions(given));
    expect(resolveOptions(given).retry).toEqual(resolveOptions({ ...given, retry: {} }).retry);
    // neither credential given, even as undefined: still refused
    expect(() =>
      resolveOptions({ host: 'h', username: 'u', password: undefined, privateKey: undefined }),
    ).toThrow('give a password, a privateKey or both');
  });

  it("takes core's BackoffPolicy names in retry, and the old names as aliases", () => {
    const base = { host: 'h', username: 'u', password: 'p' };
    expect(
      () =>
        new SftpUploader({
          ...base,
          retry: { maxAttempts: 2, baseMs: 10, maxMs: 50, jitter: 'full' },
        }),
    ).not.toThrow();
    expect(
      () => new SftpUploader({ ...base, retry: { baseDelayMs: 10, maxDelayMs: 50 } }),
    ).not.toThrow();
    let err: unknown;
    try {
      new SftpUploader({
        ...base,
        retry: { baseMs: 10, baseDelayMs: 10, jitter: 'half' },
      } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SftpConfigError);
    const paths = (err as SftpConfigError).problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['retry.jitter', 'retry.baseDelayMs']));
  });

  it('refuses control characters in remoteDir', () => {
    expect(
      () => new SftpUploader({ host: 'h', username: 'u', password: 'p', remoteDir: 'in\nbox' }),
    ).toThrow(/remoteDir: refused: it contains the control character U\+000A/);
  });

  it('requires a password or a private key', () => {
    expect(() => new SftpUploader({ host: 'h', username: 'u' })).toThrow(/password, a privateKey/);
  });

  it('refuses an encrypted key with a wrong passphrase before connecting, without echoing it', async () => {
    const pair = await generateSshKeyPair({ passphrase: 'right-passphrase' });
    let err: unknown;
    try {
      new SftpUploader({
        host: 'h',
        username: 'u',
        privateKey: pair.privateKey,
        passphrase: 'wrong-passphrase',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INVALID_PRIVATE_KEY' });
    expect((err as Error).message).not.toContain('wrong-passphrase');
    expect((err as Error).message).not.toContain(pair.privateKey.split('\n')[1]);
  });

  it('rejects unusable file names and bodies before connecting', async () => {
    const uploader = new SftpUploader({ host: '127.0.0.1', port: 1, username: 'u', password: 'p' });
    await expect(uploader.put('../escape.csv', 'x')).rejects.toMatchObject({
      code: 'INVALID_FILE_NAME',
      file: '../escape.csv',
    });
    await expect(uploader.put('a.csv', 42 as never)).rejects.toMatchObject({
      code: 'INVALID_BODY',
    });
    await uploader.close();
    await expect(uploader.put('a.csv', 'x')).rejects.toMatchObject({ code: 'UPLOADER_CLOSED' });
  });
});

describe('SftpUploader option limits', () => {
  const base = { host: 'h', username: 'u', password: 'p' };
  const problems = (extra: Record<string, unknown>): string => {
    try {
      new SftpUploader({ ...base, ...extra } as never);
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_OPTIONS' });
      return (err as Error).message;
    }
    throw new Error('the options were accepted');
  };

  it('refuses timeouts and delays Node timers cannot hold (over 2^31-1 ms)', () => {
    const tooLong = 2 ** 31;
    const message = problems({
      connectTimeoutMs: tooLong,
      operationTimeoutMs: tooLong,
      keepaliveIntervalMs: tooLong,
      retry: { baseDelayMs: tooLong, maxDelayMs: tooLong },
    });
    for (const key of [
      'connectTimeoutMs',
      'operationTimeoutMs',
      'keepaliveIntervalMs',
      'retry.baseDelayMs',
      'retry.maxDelayMs',
    ]) {
      expect(message).toContain(key);
    }
    expect(
      () => new SftpUploader({ ...base, connectTimeoutMs: 2 ** 31 - 1, operationTimeoutMs: 1 }),
    ).not.toThrow();
  });

  it('refuses algorithm names ssh2 does not support, when created', () => {
    const message = problems({
      ciphers: ['aes999-nonexistent', 'aes128-gcm@openssh.com'],
      kexAlgorithms: ['kex-unknown'],
      macs: ['hmac-unknown'],
      hostKeyAlgorithms: ['ssh-unknown'],
    });
    expect(message).toContain('ciphers: not supported by ssh2: "aes999-nonexistent"');
    expect(message).not.toContain('"aes128-gcm@openssh.com" (');
    expect(message).toContain('kexAlgorithms');
    expect(message).toContain('macs');
    expect(message).toContain('hostKeyAlgorithms');
    expect(
      () =>
        new SftpUploader({
          ...base,
          ciphers: ['aes128-gcm@openssh.com'],
          kexAlgorithms: ['curve25519-sha256'],
          macs: ['hmac-sha2-256'],
          hostKeyAlgorithms: ['ssh-ed25519'],
        }),
    ).not.toThrow();
  });

  it('reports ".." in remoteDir together with the other problems', () => {
    const message = problems({ host: '', remoteDir: 'in/../etc', port: 0 });
    expect(message).toContain('remoteDir: must not contain ".."');
    expect(message).toContain('host');
    expect(message).toContain('port');
  });

  it('says so when privateKey is a file path instead of the key, without echoing it', () => {
    let err: unknown;
    try {
      new SftpUploader({ host: 'h', username: 'u', privateKey: '/home/me/.ssh/id_ed25519' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INVALID_PRIVATE_KEY' });
    expect((err as Error).message).toContain('looks like a file path');
    expect((err as Error).message).not.toContain('/home/me');
  });
});

describe('bodies that will not be uploaded', () => {
  it('destroys a stream body refused for its name or given after close()', async () => {
    const uploader = new SftpUploader({ host: '127.0.0.1', port: 1, username: 'u', password: 'p' });
    const refused = Readable.from(['x']);
    await expect(uploader.put('../x.csv', refused)).rejects.toMatchObject({
      code: 'INVALID_FILE_NAME',
    });
    expect(refused.destroyed).toBe(true);
    await uploader.close();
    const late = Readable.from(['y']);
    await expect(uploader.put('y.csv', late)).rejects.toBeInstanceOf(SftpClosedError);
    expect(late.destroyed).toBe(true);
  });
});

describe('fingerprints', () => {
  it('computes the same SHA256 fingerprint as ssh-keygen -lf', async () => {
    const pair = await generateSshKeyPair();
    const blob = Buffer.from(pair.publicKey.split(' ')[1] as string, 'base64');
    expect(sha256Fingerprint(blob)).toBe(pair.sha256);
  });

  it('normalizes padding and rejects other forms', () => {
    const fp = `SHA256:${'A'.repeat(43)}`;
    expect(normalizeFingerprint(`${fp}=`)).toBe(fp);
    expect(normalizeFingerprint(` ${fp} `)).toBe(fp);
    expect(normalizeFingerprint('MD5:aa:bb')).toBeUndefined();
    expect(normalizeFingerprint('SHA256:short')).toBeUndefined();
  });
});
