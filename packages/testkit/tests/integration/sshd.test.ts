import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { generateSshKeyPair, type SshdServer, startSshd } from '../../src/index.js';

function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

interface Session {
  client: Client;
  sftp: SFTPWrapper;
  presentedHostKey: string;
}

async function openSftp(sshd: SshdServer, auth: Partial<ConnectConfig>): Promise<Session> {
  return await new Promise<Session>((resolve, reject) => {
    const client = new Client();
    let presentedHostKey = '';
    client.once('error', reject);
    client.once('ready', () => {
      client.sftp((err, sftp) => {
        if (err) reject(err);
        else resolve({ client, sftp, presentedHostKey });
      });
    });
    client.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => {
        presentedHostKey = sha256Fingerprint(key);
        return true;
      },
      ...auth,
    });
  });
}

async function writeRemote(sftp: SFTPWrapper, path: string, body: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    sftp.writeFile(path, body, (err) => (err ? reject(err) : resolve()));
  });
}

describe('startSshd (real OpenSSH)', () => {
  let sshd: SshdServer;

  beforeAll(async () => {
    sshd = await startSshd();
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('accepts an SFTP upload with the password and stores it in the user upload dir', async () => {
    const { client, sftp, presentedHostKey } = await openSftp(sshd, { password: sshd.password });
    try {
      const body = Buffer.from('Agent;Queue;Calls\nåsa;Kö 1;12\n', 'utf8');
      await writeRemote(sftp, `${sshd.root}/password.csv`, body);
      expect(readFileSync(join(sshd.root, 'password.csv'))).toEqual(body);
      expect(presentedHostKey).toBe(sshd.hostKeySha256);
    } finally {
      client.end();
    }
  });

  it('accepts an SFTP upload with the authorized key, with and without passphrase', async () => {
    const plain = await openSftp(sshd, { privateKey: sshd.privateKey });
    const enc = await openSftp(sshd, {
      privateKey: sshd.encryptedPrivateKey,
      passphrase: sshd.passphrase,
    });
    try {
      await writeRemote(plain.sftp, 'upload/key.txt', Buffer.from('key'));
      await writeRemote(enc.sftp, 'upload/enc-key.txt', Buffer.from('encrypted key'));
      expect(readFileSync(join(sshd.root, 'key.txt'), 'utf8')).toBe('key');
      expect(readFileSync(join(sshd.root, 'enc-key.txt'), 'utf8')).toBe('encrypted key');
    } finally {
      plain.client.end();
      enc.client.end();
    }
  });

  it('refuses a wrong password', async () => {
    await expect(openSftp(sshd, { password: `${sshd.password}x` })).rejects.toMatchObject({
      level: 'client-authentication',
    });
  });

  it('kill() drops open sessions and the listener; start() serves the same host key again', async () => {
    const { client } = await openSftp(sshd, { password: sshd.password });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    expect(sshd.processIds().length).toBeGreaterThan(1); // listener + connection processes

    await sshd.kill();
    await closed;
    expect(sshd.running).toBe(false);
    expect(sshd.processIds()).toEqual([]);
    await expect(openSftp(sshd, { password: sshd.password })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });

    await sshd.start();
    const again = await openSftp(sshd, { password: sshd.password });
    again.client.end();
    expect(again.presentedHostKey).toBe(sshd.hostKeySha256);
  });

  it('replaceHostKey() serves a new host key on the same port', async () => {
    const before = sshd.hostKeySha256;
    const after = await sshd.replaceHostKey();
    expect(after).not.toBe(before);
    expect(sshd.hostKeySha256).toBe(after);
    const session = await openSftp(sshd, { password: sshd.password });
    session.client.end();
    expect(session.presentedHostKey).toBe(after);
  });

  it("opensshClientArgs() logs OpenSSH's own sftp in, pinned to the current host key", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cwfm-sftp-cli-'));
    try {
      const source = join(dir, 'cli.csv');
      writeFileSync(source, 'Agent;Calls\nanna;3\n');
      const batch = join(dir, 'batch');
      writeFileSync(batch, `put ${source} ${sshd.root}/cli.csv\n`);
      // after replaceHostKey() above: the args must pin the new key, or BatchMode refuses
      const res = spawnSync('sftp', ['-b', batch, ...sshd.opensshClientArgs(['-q'])], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      expect(readFileSync(join(sshd.root, 'cli.csv'), 'utf8')).toBe('Agent;Calls\nanna;3\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stop() removes the throwaway user and its files', async () => {
    const other = await startSshd();
    const home = other.home;
    expect(readFileSync('/etc/passwd', 'utf8')).toContain(`${other.username}:`);
    await other.stop();
    expect(readFileSync('/etc/passwd', 'utf8')).not.toContain(`${other.username}:`);
    expect(existsSync(home)).toBe(false);
    expect(other.running).toBe(false);
  });

  it('generates key pairs whose fingerprint differs from the host key', async () => {
    const pair = await generateSshKeyPair();
    expect(pair.sha256).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(pair.sha256).not.toBe(sshd.hostKeySha256);
    expect(pair.publicKey).toMatch(/^ssh-ed25519 /);
  });
});
