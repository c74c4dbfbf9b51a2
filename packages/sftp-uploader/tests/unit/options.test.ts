import { generateSshKeyPair } from '@connect-wfm/testkit';
import {
  normalizeFingerprint,
  SftpConfigError,
  SftpUploader,
  sha256Fingerprint,
} from '../../src/index.js';

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
