import { chmodSync, chownSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSshKeyPair, type SshdServer, startSshd } from '@connect-wfm/testkit';
import { jest } from '@jest/globals';
import { SftpAuthError, SftpHostKeyError, SftpUploader } from '../../src/index.js';
import { errorText, optionsFor, recordingLogger } from './helpers.js';

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SftpUploader against OpenSSH', () => {
  let sshd: SshdServer;
  const sshdLog: string[] = [];

  beforeAll(async () => {
    sshd = await startSshd({ onLog: (line) => sshdLog.push(line) });
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('uploads with password authentication and publishes under the final name', async () => {
    const uploader = new SftpUploader(optionsFor(sshd));
    try {
      const result = await uploader.put('password.csv', 'a,b\n1,2\n');
      expect(result).toMatchObject({
        name: 'password.csv',
        remotePath: join(sshd.root, 'password.csv'),
        bytes: 8,
        attempts: 1,
        resumed: false,
        publishedWith: 'posix-rename',
      });
      expect(readFileSync(join(sshd.root, 'password.csv'), 'utf8')).toBe('a,b\n1,2\n');
      expect(readdirSync(sshd.root).filter((f) => f.endsWith('.part'))).toEqual([]);
    } finally {
      await uploader.close();
    }
  });

  it('uploads with key authentication, without and with a passphrase', async () => {
    const plain = new SftpUploader(
      optionsFor(sshd, { password: undefined, privateKey: sshd.privateKey, remoteDir: 'upload' }),
    );
    const enc = new SftpUploader(
      optionsFor(sshd, {
        password: undefined,
        privateKey: Buffer.from(sshd.encryptedPrivateKey),
        passphrase: sshd.passphrase,
      }),
    );
    try {
      await plain.put('key.txt', Buffer.from('plain key'));
      await enc.put('enc-key.txt', Buffer.from('encrypted key'));
      expect(readFileSync(join(sshd.root, 'key.txt'), 'utf8')).toBe('plain key');
      expect(readFileSync(join(sshd.root, 'enc-key.txt'), 'utf8')).toBe('encrypted key');
    } finally {
      await plain.close();
      await enc.close();
    }
  });

  it('refuses a wrong password without retrying and without revealing it', async () => {
    const wrong = `${sshd.password}-wrong`;
    const logger = recordingLogger();
    const uploader = new SftpUploader(optionsFor(sshd, { password: wrong, logger }));
    try {
      const err = await uploader.put('never.csv', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpAuthError);
      expect(err).toMatchObject({ code: 'AUTHENTICATION_FAILED', retryable: false, attempts: 1 });
      expect((err as Error).message).toContain('"never.csv"');
      expect(errorText(err)).not.toContain(wrong);
      expect(JSON.stringify(logger.lines)).not.toContain(wrong);
      expect(readdirSync(sshd.root)).not.toContain('never.csv');
    } finally {
      await uploader.close();
    }
  });

  it.each(['Upload', 'of', 'failed', 'server'])(
    'does not reveal a (wrong) password equal to a word of the error message: %j',
    async (password) => {
      const uploader = new SftpUploader(optionsFor(sshd, { password }));
      try {
        const err = await uploader.put('s.csv', 'x').catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
        const message = (err as Error).message;
        expect(message).toMatch(/^Upload of "s\.csv" to sftp:\/\/127\.0\.0\.1:\d+\//);
        expect(message).toContain('failed: the server refused the credentials');
        expect(message).not.toContain('[redacted]');
        expect(message).not.toContain('withheld');
      } finally {
        await uploader.close();
      }
    },
  );

  it('refuses a server whose host key differs from the pinned fingerprint', async () => {
    const other = await generateSshKeyPair();
    const logger = recordingLogger();
    const uploader = new SftpUploader(optionsFor(sshd, { hostKeySha256: other.sha256, logger }));
    try {
      const logFrom = sshdLog.length;
      const err = await uploader.put('mitm.csv', 'secret data').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpHostKeyError);
      expect(err).toMatchObject({
        code: 'HOST_KEY_MISMATCH',
        retryable: false,
        attempts: 1,
        expected: other.sha256,
        presented: sshd.hostKeySha256,
      });
      expect((err as Error).message).toContain(sshd.hostKeySha256);
      expect((err as Error).message).toContain('before authentication');
      // Refused before authentication: sshd logs the client leaving [preauth], no login attempt.
      await until(() => sshdLog.slice(logFrom).some((l) => l.includes('preauth')));
      const log = sshdLog.slice(logFrom).join('\n');
      expect(log).not.toMatch(
        /Accepted|Failed password|Failed publickey|Postponed|authenticating user/,
      );
      expect(readdirSync(sshd.root)).not.toContain('mitm.csv');
    } finally {
      await uploader.close();
    }
  });

  it('without a pin, connects and warns with the fingerprint to pin', async () => {
    const logger = recordingLogger();
    const uploader = new SftpUploader(optionsFor(sshd, { hostKeySha256: undefined, logger }));
    try {
      await uploader.put('tofu.csv', 'x');
      const warnings = logger.lines.filter((l) => l.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.message).toContain(sshd.hostKeySha256);
      expect(warnings[0]?.message).toContain('hostKeySha256');
      expect(uploader.presentedHostKeySha256).toBe(sshd.hostKeySha256);
    } finally {
      await uploader.close();
    }
  });

  it('without a pin and without a logger, emits a process warning with the fingerprint, once', async () => {
    // Jest's sandboxed `process` does not forward 'warning' events: watch the call itself.
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const uploader = new SftpUploader(
      optionsFor(sshd, { hostKeySha256: undefined, keepaliveIntervalMs: 0 }),
    );
    try {
      await uploader.put('tofu-silent-1.csv', 'x');
      await uploader.put('tofu-silent-2.csv', 'y');
      const calls = emitWarning.mock.calls.filter(
        ([, o]) => (o as { code?: string } | undefined)?.code === 'SFTP_HOST_KEY_NOT_PINNED',
      );
      expect(calls).toHaveLength(1);
      expect(String(calls[0]?.[0])).toContain(sshd.hostKeySha256);
      expect(String(calls[0]?.[0])).toContain('set hostKeySha256 to pin it');
    } finally {
      emitWarning.mockRestore();
      await uploader.close();
    }
  });

  it('applies fileMode exactly, whatever the umask and a leftover temporary file', async () => {
    const dir = join(sshd.root, 'modes');
    const mode = (name: string) => statSync(join(dir, name)).mode & 0o7777;
    const group = new SftpUploader(optionsFor(sshd, { remoteDir: dir, fileMode: 0o664 }));
    const secret = new SftpUploader(optionsFor(sshd, { remoteDir: dir, fileMode: 0o600 }));
    try {
      await group.put('shared.csv', 'x'); // sshd's umask 022 would make it 0644
      // A world-readable file with the old fixed temporary name (owned by the user): neither
      // reused nor touched.
      const stale = join(dir, '.secret.csv.part');
      writeFileSync(stale, 'stale');
      chmodSync(stale, 0o644);
      chownSync(stale, statSync(dir).uid, statSync(dir).gid);
      await secret.put('secret.csv', 'payroll');
      expect(mode('shared.csv')).toBe(0o664);
      expect(mode('secret.csv')).toBe(0o600);
      expect(readFileSync(join(dir, 'secret.csv'), 'utf8')).toBe('payroll');
      expect(readFileSync(stale, 'utf8')).toBe('stale');
      expect(mode('.secret.csv.part')).toBe(0o644);
    } finally {
      await group.close();
      await secret.close();
    }
  });

  it('creates nested remote directories as needed (mkdir -p)', async () => {
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: `${sshd.root}/in/ctr` }));
    try {
      await uploader.put('2024/01/02/calls.csv', 'nested');
      await uploader.put('2024/01/03/calls.csv', 'sibling');
      expect(readFileSync(join(sshd.root, 'in/ctr/2024/01/02/calls.csv'), 'utf8')).toBe('nested');
      expect(readFileSync(join(sshd.root, 'in/ctr/2024/01/03/calls.csv'), 'utf8')).toBe('sibling');
    } finally {
      await uploader.close();
    }
  });

  it('uploads 50 files over one connection', async () => {
    const connections: string[] = [];
    const logger = recordingLogger();
    const uploader = new SftpUploader(
      optionsFor(sshd, { remoteDir: `${sshd.root}/fifty`, logger }),
    );
    try {
      const files = Array.from({ length: 50 }, (_, i) => ({
        name: `file-${String(i).padStart(2, '0')}.csv`,
        body: `row,${i}\n`.repeat(i + 1),
      }));
      const outcomes = await uploader.putMany(files);
      expect(outcomes.every((o) => o.ok)).toBe(true);
      for (const line of logger.lines)
        if (line.message.startsWith('connected')) connections.push(line.message);
      expect(connections).toHaveLength(1);
      const listed = readdirSync(join(sshd.root, 'fifty')).sort();
      expect(listed).toEqual(files.map((f) => f.name));
      for (const f of files) {
        expect(readFileSync(join(sshd.root, 'fifty', f.name), 'utf8')).toBe(f.body);
      }
    } finally {
      await uploader.close();
    }
  });

  it('writes a multi-byte UTF-8 body byte for byte', async () => {
    const text = 'Agent;État;Kö\nJosé;Pausé ☕;1\nМария;Обед 🍲;2\n李雷;休息;3\n'.repeat(2000);
    const uploader = new SftpUploader(optionsFor(sshd, { chunkSize: 4096 }));
    try {
      const result = await uploader.put('utf8.csv', text);
      const onDisk = readFileSync(join(sshd.root, 'utf8.csv'));
      expect(result.bytes).toBe(Buffer.byteLength(text, 'utf8'));
      expect(onDisk.equals(Buffer.from(text, 'utf8'))).toBe(true);
    } finally {
      await uploader.close();
    }
  });

  it('overwrites an existing file atomically', async () => {
    const uploader = new SftpUploader(optionsFor(sshd));
    try {
      await uploader.put('same.csv', 'first version');
      const second = await uploader.put('same.csv', 'second version');
      expect(second.publishedWith).toBe('posix-rename');
      expect(readFileSync(join(sshd.root, 'same.csv'), 'utf8')).toBe('second version');
    } finally {
      await uploader.close();
    }
  });
});

describe('SftpUploader trust on first use', () => {
  let sshd: SshdServer;

  beforeAll(async () => {
    sshd = await startSshd();
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('refuses a host key that changed since its first connection when no pin is set', async () => {
    const uploader = new SftpUploader(
      optionsFor(sshd, { hostKeySha256: undefined, keepaliveIntervalMs: 0 }),
    );
    try {
      const firstKey = sshd.hostKeySha256;
      await uploader.put('first.csv', 'x');
      const newKey = await sshd.replaceHostKey(); // drops the connection; a new key is served
      const err = await uploader.put('second.csv', 'y').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpHostKeyError);
      expect(err).toMatchObject({ expected: firstKey, presented: newKey, retryable: false });
      expect((err as Error).message).toContain('changed');
      expect(readdirSync(sshd.root)).toEqual(['first.csv']);
    } finally {
      await uploader.close();
    }
  });
});
