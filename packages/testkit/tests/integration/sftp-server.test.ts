import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SftpUploadError, SftpUploader } from '@connect-wfm/sftp-uploader';
import ssh2, { Client, type SFTPWrapper } from 'ssh2';
import { ed25519KeyPair, type SftpServer, startSftpServer } from '../../src/index.js';

/** An ssh2 client session on the server, for the requests the uploader does not make. */
async function session(server: SftpServer): Promise<{ sftp: SFTPWrapper; end: () => void }> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.connect({
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.privateKey,
    });
  });
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
    client.sftp((err, s) => (err ? reject(err) : resolve(s))),
  );
  return { sftp, end: () => client.end() };
}

const call = <T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));

describe('ed25519KeyPair', () => {
  it('only returns pairs that ssh2 parses (its generator drops a leading zero byte about once in 170)', () => {
    // 1,000 bare ssh2 pairs contain an unparseable one with a probability above 99 %
    for (let i = 0; i < 1000; i++) {
      const pair = ed25519KeyPair();
      expect(ssh2.utils.parseKey(pair.public)).not.toBeInstanceOf(Error);
      expect(ssh2.utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
    }
  });
});

describe('startSftpServer: an ssh2 SFTP server for machines without OpenSSH', () => {
  let server: SftpServer;

  beforeAll(async () => {
    server = await startSftpServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  const uploader = (auth: 'password' | 'key', extra: Record<string, unknown> = {}) =>
    new SftpUploader({
      host: server.host,
      port: server.port,
      username: server.username,
      ...(auth === 'password' ? { password: server.password } : { privateKey: server.privateKey }),
      hostKeySha256: server.hostKeySha256,
      remoteDir: 'inbound/ctr',
      retry: { maxAttempts: 4, baseMs: 50, maxMs: 200 },
      ...extra,
    });

  it('takes uploads from sftp-uploader by password and by public key, into its root', async () => {
    for (const auth of ['password', 'key'] as const) {
      const up = uploader(auth);
      try {
        const result = await up.put(`${auth}.csv`, `a,b\n1,${auth}\n`);
        expect(result.bytes).toBe(`a,b\n1,${auth}\n`.length);
      } finally {
        await up.close();
      }
      expect(readFileSync(join(server.root, 'inbound/ctr', `${auth}.csv`), 'utf8')).toBe(
        `a,b\n1,${auth}\n`,
      );
    }
    // the uploader's temporary files are gone: only the published names are left
    expect(readdirSync(join(server.root, 'inbound/ctr')).sort()).toEqual([
      'key.csv',
      'password.csv',
    ]);
    expect(statSync(join(server.root, 'inbound/ctr/key.csv')).mode & 0o777).toBe(0o644);
  });

  it('refuses a wrong password and is refused on a wrong pinned host key', async () => {
    const wrong = uploader('password', { password: 'not-the-password' });
    const authError = await wrong.put('x.csv', 'x\n').catch((err: unknown) => err);
    await wrong.close().catch(() => {});
    expect(authError).toBeInstanceOf(SftpUploadError);
    expect((authError as SftpUploadError).code).toBe('AUTHENTICATION_FAILED');
    expect(String((authError as Error).message)).not.toContain(server.password);

    const pinned = uploader('key', {
      hostKeySha256: 'SHA256:Wszx+QIWIJ+h5ej8cEN3YBSE3hTWB8K8gT8XkFWhBYA',
    });
    const keyError = await pinned.put('y.csv', 'y\n').catch((err: unknown) => err);
    await pinned.close().catch(() => {});
    expect((keyError as SftpUploadError).code).toBe('HOST_KEY_MISMATCH');
    expect(existsSync(join(server.root, 'inbound/ctr/x.csv'))).toBe(false);
    expect(existsSync(join(server.root, 'inbound/ctr/y.csv'))).toBe(false);
  });

  it('comes back on the same port after restart(), and the uploader reconnects', async () => {
    const up = uploader('password');
    try {
      await up.put('before.csv', 'before\n');
      await server.restart();
      expect(server.running).toBe(true);
      await up.put('after.csv', 'after\n');
    } finally {
      await up.close();
    }
    expect(readFileSync(join(server.root, 'inbound/ctr/after.csv'), 'utf8')).toBe('after\n');
  });

  it('answers readdir, stat, mkdir, rename and remove inside its root only', async () => {
    const { sftp, end } = await session(server);
    try {
      await call<void>((cb) => sftp.mkdir('/box', cb));
      const handle = await call<Buffer>((cb) => sftp.open('/box/a.txt', 'w', cb));
      await call<void>((cb) => sftp.write(handle, Buffer.from('abc'), 0, 3, 0, cb));
      await call<void>((cb) => sftp.close(handle, cb));
      expect((await call<{ size: number }>((cb) => sftp.stat('/box/a.txt', cb))).size).toBe(3);
      // `..` cannot leave the root
      await call<void>((cb) => sftp.mkdir('/../../escape', cb));
      expect(existsSync(join(server.root, 'escape'))).toBe(true);
      // a plain rename never replaces an existing name
      const other = await call<Buffer>((cb) => sftp.open('/box/b.txt', 'w', cb));
      await call<void>((cb) => sftp.close(other, cb));
      await expect(
        call<void>((cb) => sftp.rename('/box/a.txt', '/box/b.txt', cb)),
      ).rejects.toThrow();
      await call<void>((cb) => sftp.rename('/box/a.txt', '/box/c.txt', cb));
      const names = await call<Array<{ filename: string }>>((cb) => sftp.readdir('/box', cb));
      expect(names.map((n) => n.filename).sort()).toEqual(['b.txt', 'c.txt']);
      await call<void>((cb) => sftp.unlink('/box/b.txt', cb));
      await expect(call((cb) => sftp.stat('/box/b.txt', cb))).rejects.toThrow(/No such file/i);
      expect(readFileSync(join(server.root, 'box/c.txt'), 'utf8')).toBe('abc');
    } finally {
      end();
    }
  });
});
