import { createReadStream, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SshdServer, startSshd } from '@connect-wfm/testkit';
import { SftpAuthError, SftpBodyError, SftpUploader } from '../../src/index.js';
import { optionsFor, recordingLogger } from './helpers.js';

describe('SftpUploader queue and stream bodies against OpenSSH', () => {
  let sshd: SshdServer;
  let sources: string;

  beforeAll(async () => {
    sshd = await startSshd();
    sources = mkdtempSync(join(tmpdir(), 'sftp-uploader-sources-'));
    for (let i = 0; i < 5; i++)
      writeFileSync(join(sources, `src-${i}.txt`), `file ${i}\n`.repeat(500));
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('close() lets queued uploads finish before closing', async () => {
    const dir = join(sshd.root, 'queued');
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: dir }));
    const a = uploader.put('a.csv', 'first');
    const b = uploader.put('b.csv', 'second');
    const closed = uploader.close();
    const late = uploader.put('c.csv', 'after close').catch((e: unknown) => e);

    await expect(a).resolves.toMatchObject({ name: 'a.csv', attempts: 1 });
    await expect(b).resolves.toMatchObject({ name: 'b.csv', attempts: 1 });
    await closed;
    expect(await late).toMatchObject({ code: 'UPLOADER_CLOSED' });
    expect(readdirSync(dir).sort()).toEqual(['a.csv', 'b.csv']);
    expect(readFileSync(join(dir, 'b.csv'), 'utf8')).toBe('second');
  });

  it('connect() opens the connection ahead, and the next put runs on it', async () => {
    const dir = join(sshd.root, 'warm');
    const logger = recordingLogger();
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: dir, logger }));
    try {
      await expect(uploader.connect()).resolves.toBe(true);
      const connected = () => logger.lines.filter((l) => l.message.startsWith('connected to'));
      expect(connected()).toHaveLength(1);
      await expect(uploader.put('a.csv', 'warm')).resolves.toMatchObject({ attempts: 1 });
      await expect(uploader.connect()).resolves.toBe(true);
      expect(connected()).toHaveLength(1);
      expect(readFileSync(join(dir, 'a.csv'), 'utf8')).toBe('warm');
    } finally {
      await uploader.close();
    }
    await expect(uploader.connect()).resolves.toBe(false);
  });

  it('connect() resolves false when the server refuses; the put then reports the failure itself', async () => {
    const logger = recordingLogger();
    const uploader = new SftpUploader(
      optionsFor(sshd, {
        password: 'not-the-password',
        logger,
        retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
      }),
    );
    try {
      await expect(uploader.connect()).resolves.toBe(false);
      expect(logger.lines.some((l) => l.level === 'debug' && l.message.includes('ahead'))).toBe(
        true,
      );
      const err = await uploader.put('a.csv', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpAuthError);
      expect(JSON.stringify(logger.lines)).not.toContain('not-the-password');
    } finally {
      await uploader.close();
    }
  });

  it('gives a queued stream whose source is missing a BODY_FAILED outcome, without crashing', async () => {
    const dir = join(sshd.root, 'missing');
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: dir }));
    const missing = createReadStream(join(sources, 'does-not-exist.txt'));
    try {
      const outcomes = await uploader.putMany([
        { name: 'a.txt', body: createReadStream(join(sources, 'src-0.txt')) },
        { name: 'b.txt', body: missing },
        { name: 'c.txt', body: createReadStream(join(sources, 'src-2.txt')) },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      const failed = outcomes[1];
      expect(failed?.ok === false && failed.error).toBeInstanceOf(SftpBodyError);
      expect(failed?.ok === false && failed.error.message).toContain('ENOENT');
      expect(missing.destroyed).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['a.txt', 'c.txt']);
    } finally {
      await uploader.close();
    }
  });

  it('destroys the streams of files skipped after an authentication failure, keeping the error class', async () => {
    const uploader = new SftpUploader(optionsFor(sshd, { password: `${sshd.password}-wrong` }));
    const files = Array.from({ length: 5 }, (_, i) => ({
      name: `f${i}.txt`,
      body: createReadStream(join(sources, `src-${i}.txt`)),
    }));
    try {
      const outcomes = await uploader.putMany(files);
      expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(
        Array(5).fill('AUTHENTICATION_FAILED'),
      );
      for (const o of outcomes) expect(!o.ok && o.error).toBeInstanceOf(SftpAuthError);
      expect(files.filter((f) => f.body.destroyed)).toHaveLength(5);
    } finally {
      await uploader.close();
    }
  });
});
