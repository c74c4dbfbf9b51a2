// The historical Lambda's use (README "Streaming delivery"): bodies streamed from S3 through a
// mapper, one connection for many files, host key pinned, published by atomic rename; and what
// it sees when sshd goes down mid-upload. Against a real OpenSSH server.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type SshdServer, startSshd } from '@connect-wfm/testkit';
import { SftpConnectionError, SftpUploader } from '../../src/index.js';
import { isTempFor, optionsFor, recordingLogger, tempSize } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

/** A stand-in for "S3 object -> CTR mapper": a byte stream turned into CSV lines on the fly. */
function mapped(source: Readable): Readable {
  const toCsv = new Transform({
    transform(chunk: Buffer, _enc, done) {
      done(null, chunk.toString('utf8').toUpperCase());
    },
  });
  pipeline(source, toCsv).catch(() => undefined); // errors reach the uploader through toCsv
  return toCsv;
}

describe('SftpUploader as the historical Lambda uses it', () => {
  let sshd: SshdServer;

  beforeAll(async () => {
    sshd = await startSshd();
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('streams many mapped files over one pinned connection, each published by atomic rename', async () => {
    const logger = recordingLogger();
    const dir = join(sshd.root, 'ctr');
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: dir, logger }));
    try {
      const files = Array.from({ length: 5 }, (_, i) => ({
        name: `2024/01/0${i + 1}/calls.csv`,
        body: mapped(Readable.from([`callid,queue\n`, `c${i},support\n`])),
      }));
      const outcomes = await uploader.putMany(files);
      expect(outcomes.map((o) => o.ok && o.result.publishedWith)).toEqual(
        Array(5).fill('posix-rename'),
      );
    } finally {
      await uploader.close();
    }
    for (let i = 0; i < 5; i++) {
      expect(readFileSync(join(dir, `2024/01/0${i + 1}/calls.csv`), 'utf8')).toBe(
        `CALLID,QUEUE\nC${i},SUPPORT\n`,
      );
    }
    expect(logger.lines.filter((l) => l.message.startsWith('connected'))).toHaveLength(1);
    expect(logger.lines.some((l) => l.message.includes('not pinned'))).toBe(false);
  });

  it('leaves nothing under the final name and throws a retryable error when sshd goes down mid-upload', async () => {
    const logger = recordingLogger();
    const dir = join(sshd.root, 'outage');
    const uploader = new SftpUploader(
      optionsFor(sshd, {
        remoteDir: dir,
        logger,
        connectTimeoutMs: 5000,
        retry: { maxAttempts: 3, baseMs: 50, maxMs: 200 },
      }),
    );
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* s3Object() {
      for (let i = 0; i < 8; i++) yield Buffer.alloc(256 * 1024, 0x61);
      await gate; // sshd goes down while the Lambda is still reading the object
      for (let i = 0; i < 8; i++) yield Buffer.alloc(256 * 1024, 0x62);
    }
    try {
      const upload = uploader.put('day.csv', mapped(Readable.from(s3Object()))).catch((e) => e);
      await until(() => tempSize(dir, 'day.csv') >= 1024 * 1024);
      await sshd.kill();
      release();
      const err = await upload;
      expect(err).toBeInstanceOf(SftpConnectionError);
      expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, attempts: 3 });
      expect(existsSync(join(dir, 'day.csv'))).toBe(false);
      // The clean-up could not reach the server: the warning names the temporary file left.
      const left = readdirSync(dir);
      expect(left).toHaveLength(1);
      expect(isTempFor(left[0] as string, 'day.csv')).toBe(true);
      expect(
        logger.lines.some((l) => l.level === 'warn' && l.message.includes(left[0] as string)),
      ).toBe(true);

      // The server is back: the next delivery (the message redelivered) publishes the file,
      // and the temporary file the failed upload left is removed.
      await sshd.start();
      const again = await uploader.put('day.csv', mapped(Readable.from(['a,b\n'])));
      expect(again.publishedWith).toBe('posix-rename');
      expect(readdirSync(dir)).toEqual(['day.csv']);
      expect(readFileSync(join(dir, 'day.csv'), 'utf8')).toBe('A,B\n');
    } finally {
      release();
      await uploader.close();
      await sshd.start();
    }
  });
});
