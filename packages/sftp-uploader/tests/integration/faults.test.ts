import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type SshdServer, startSshd } from '@connect-wfm/testkit';
import {
  SftpBodyError,
  SftpConnectionError,
  SftpRemoteError,
  SftpUploader,
} from '../../src/index.js';
import { startLatencyProxy } from './fake-server.js';
import { errorText, optionsFor, recordingLogger, tempSize } from './helpers.js';

const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes (xorshift32), different for every seed. */
function block(seed: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed | 1;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeInt32LE(x | 0, i);
  }
  return out;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const partFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.part'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every few ms until it is true (at most `timeoutMs`). */
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

describe('SftpUploader faults against OpenSSH', () => {
  let sshd: SshdServer;

  beforeAll(async () => {
    sshd = await startSshd();
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('completes a Buffer upload after sshd is killed mid-transfer and started again', async () => {
    const body = block(1, 48 * MiB);
    const logger = recordingLogger();
    const uploader = new SftpUploader(
      optionsFor(sshd, {
        remoteDir: `${sshd.root}/crash-buffer`,
        retry: { maxAttempts: 12, baseDelayMs: 50, maxDelayMs: 400 },
        logger,
      }),
    );
    const dir = join(sshd.root, 'crash-buffer');
    try {
      const upload = uploader.put('day.bin', body);
      // Kill the server once part of the file is on disk, bring it back a moment later.
      await until(() => tempSize(dir, 'day.bin') >= 4 * MiB);
      await sshd.kill();
      const sizeAtCrash = tempSize(dir, 'day.bin');
      await sleep(400);
      await sshd.start();
      const result = await upload;

      expect(sizeAtCrash).toBeLessThan(body.length);
      expect(result.attempts).toBeGreaterThan(1);
      expect(result.resumed).toBe(true);
      const onDisk = readFileSync(join(sshd.root, 'crash-buffer', 'day.bin'));
      expect(sha256(onDisk)).toBe(sha256(body));
      expect(partFiles(join(sshd.root, 'crash-buffer'))).toEqual([]);
      expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('transient'))).toBe(
        true,
      );
    } finally {
      await uploader.close();
      await sshd.start();
    }
  });

  it('resumes a stream upload after sshd is killed mid-transfer and started again', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => block(100 + i, MiB));
    const expected = createHash('sha256');
    for (const c of chunks) expected.update(c);
    let restart: Promise<void> | undefined;
    async function* body() {
      for (const [i, chunk] of chunks.entries()) {
        if (i === 12) {
          await sshd.kill(); // the transfer is under way: writes fail mid-file
          restart = sleep(300).then(() => sshd.start());
        }
        yield chunk;
      }
    }
    const uploader = new SftpUploader(
      optionsFor(sshd, { retry: { maxAttempts: 12, baseDelayMs: 50, maxDelayMs: 400 } }),
    );
    try {
      const result = await uploader.put('stream.bin', Readable.from(body()));
      await restart;
      expect(result.attempts).toBeGreaterThan(1);
      expect(result.resumed).toBe(true);
      expect(result.bytes).toBe(40 * MiB);
      const onDisk = readFileSync(join(sshd.root, 'stream.bin'));
      expect(sha256(onDisk)).toBe(expected.digest('hex'));
      expect(partFiles(sshd.root)).toEqual([]);
    } finally {
      await uploader.close();
      await restart;
    }
  });

  it('never lets a concurrent watcher see a partial file under its final name', async () => {
    const dir = join(sshd.root, 'watched');
    const files = Array.from({ length: 12 }, (_, i) => ({
      name: `f${i % 6}.bin`, // every name is written twice: first create, then overwrite
      body: block(1000 + i, (1 + (i % 4)) * MiB),
    }));
    const allowedSizes = new Map<string, Set<number>>();
    for (const f of files) {
      const sizes = allowedSizes.get(f.name) ?? new Set<number>();
      sizes.add(f.body.length);
      allowedSizes.set(f.name, sizes);
    }
    const partial: string[] = [];
    let sawTemp = false;
    let polls = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        polls++;
        for (const name of existsSync(dir) ? readdirSync(dir) : []) {
          if (name.endsWith('.part')) {
            sawTemp = true;
            continue;
          }
          try {
            const size = statSync(join(dir, name)).size;
            if (!allowedSizes.get(name)?.has(size)) partial.push(`${name}:${size}`);
          } catch {
            // replaced between readdir and stat: fine
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: dir, chunkSize: 64 * 1024 }));
    try {
      const outcomes = await uploader.putMany(files);
      expect(outcomes.every((o) => o.ok)).toBe(true);
    } finally {
      watching = false;
      await watcher;
      await uploader.close();
    }
    expect(polls).toBeGreaterThan(10);
    expect(sawTemp).toBe(true); // the watcher did observe uploads in progress
    expect(partial).toEqual([]);
    for (const f of files.slice(6)) {
      expect(sha256(readFileSync(join(dir, f.name)))).toBe(sha256(f.body));
    }
  });

  it('retries a stalled server after the operation timeout and completes', async () => {
    const body = block(7, 24 * MiB);
    const uploader = new SftpUploader(
      optionsFor(sshd, {
        operationTimeoutMs: 2000, // room for a loaded machine; a frozen server never answers
        retry: { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 100 },
      }),
    );
    const frozen: number[] = [];
    try {
      const upload = uploader.put('stalled.bin', body);
      await until(() => tempSize(sshd.root, 'stalled.bin') >= 2 * MiB);
      // Freeze this connection's server processes: the transfer stalls without any error.
      for (const pid of sshd.processIds().slice(1)) {
        process.kill(pid, 'SIGSTOP');
        frozen.push(pid);
      }
      const result = await upload;
      expect(result.attempts).toBeGreaterThan(1);
      expect(sha256(readFileSync(join(sshd.root, 'stalled.bin')))).toBe(sha256(body));
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGKILL');
      await uploader.close();
    }
  });

  it('removes the temporary file over a fresh connection when a stalled upload fails', async () => {
    const dir = join(sshd.root, 'stall-clean');
    const uploader = new SftpUploader(
      optionsFor(sshd, { remoteDir: dir, operationTimeoutMs: 2000, retry: { maxAttempts: 1 } }),
    );
    const frozen: number[] = [];
    try {
      const upload = uploader.put('stuck.bin', block(8, 24 * MiB)).catch((e: unknown) => e);
      await until(() => tempSize(dir, 'stuck.bin') >= 2 * MiB);
      for (const pid of sshd.processIds().slice(1)) {
        process.kill(pid, 'SIGSTOP');
        frozen.push(pid);
      }
      const err = await upload;
      expect(err).toBeInstanceOf(SftpConnectionError);
      expect(err).toMatchObject({ code: 'TIMEOUT', attempts: 1 });
      expect(readdirSync(dir)).toEqual([]); // neither a final nor a temporary file
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGKILL');
      await uploader.close();
    }
  });

  it('does not count time waiting for a slow body against the write timeout', async () => {
    // 200 ms of latency on every server reply, a 2 s operation timeout, and a body that pauses
    // 4 s (twice the timeout) between two chunks: a healthy, slow producer, not a stalled
    // server. (The timeout leaves room for a machine saturated by parallel suites: 600 ms once
    // expired on a write that OpenSSH had not acknowledged yet.)
    const proxy = await startLatencyProxy(sshd.port, 200);
    const uploader = new SftpUploader(
      optionsFor(sshd, {
        port: proxy.port,
        operationTimeoutMs: 2000,
        chunkSize: 64 * 1024,
        keepaliveIntervalMs: 0,
        retry: { maxAttempts: 1 },
      }),
    );
    async function* slow() {
      yield block(21, 64 * 1024);
      await sleep(4000);
      yield block(22, 64 * 1024);
    }
    try {
      const result = await uploader.put('slow.bin', slow());
      expect(result).toMatchObject({ bytes: 128 * 1024, attempts: 1 });
      const onDisk = readFileSync(join(sshd.root, 'slow.bin'));
      expect(onDisk.equals(Buffer.concat([block(21, 64 * 1024), block(22, 64 * 1024)]))).toBe(true);
    } finally {
      await uploader.close();
      await proxy.close();
    }
  });

  it('gives up after maxAttempts while the server stays down, naming the file', async () => {
    const uploader = new SftpUploader(
      optionsFor(sshd, { retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 } }),
    );
    await sshd.kill();
    try {
      const err = await uploader.put('down.csv', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpConnectionError);
      expect(err).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, attempts: 3 });
      expect((err as Error).message).toContain('"down.csv"');
      expect((err as Error).message).toContain('after 3 attempts');
      expect(errorText(err)).not.toContain(sshd.password);
    } finally {
      await sshd.start();
      await uploader.close();
    }
  });

  it('fails at once, without retry, when the remote directory cannot be created', async () => {
    const locked = join(sshd.home, 'locked');
    mkdirSync(locked, { recursive: true }); // owned by root: the SFTP user may not write in it
    chmodSync(locked, 0o755);
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: `${locked}/sub` }));
    const direct = new SftpUploader(optionsFor(sshd, { remoteDir: locked }));
    try {
      const err = await uploader.put('a.csv', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpRemoteError);
      expect(err).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', retryable: false, attempts: 1 });
      expect((err as Error).message).toContain('permission denied');
      expect((err as Error).message).toContain(`${locked}/sub`);

      const denied = await direct.put('b.csv', 'x').catch((e: unknown) => e);
      expect(denied).toMatchObject({ code: 'PERMISSION_DENIED', retryable: false, attempts: 1 });
      expect((denied as Error).message).toContain('"b.csv"');
    } finally {
      await uploader.close();
      await direct.close();
    }
  });

  it('refuses a missing directory when createDirectories is false', async () => {
    const uploader = new SftpUploader(
      optionsFor(sshd, { remoteDir: `${sshd.root}/absent`, createDirectories: false }),
    );
    try {
      await expect(uploader.put('a.csv', 'x')).rejects.toMatchObject({
        code: 'DIRECTORY_UNAVAILABLE',
        attempts: 1,
      });
      expect(existsSync(join(sshd.root, 'absent'))).toBe(false);
    } finally {
      await uploader.close();
    }
  });

  it('removes the temporary file when the body stream fails, and publishes nothing', async () => {
    async function* failing() {
      yield block(3, MiB);
      yield block(4, MiB);
      throw new Error('source bucket read failed');
    }
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: `${sshd.root}/broken` }));
    try {
      const err = await uploader.put('broken.csv', failing()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpBodyError);
      expect((err as Error).message).toContain('source bucket read failed');
      expect(readdirSync(join(sshd.root, 'broken'))).toEqual([]);
      // The connection is still usable afterwards.
      await uploader.put('ok.csv', 'fine');
      expect(readdirSync(join(sshd.root, 'broken'))).toEqual(['ok.csv']);
    } finally {
      await uploader.close();
    }
  });
});

describe('SftpUploader against an OpenSSH server refusing every rename', () => {
  let sshd: SshdServer;

  beforeAll(async () => {
    sshd = await startSshd({ deniedSftpRequests: ['posix-rename', 'rename'] });
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('keeps the delivered file and removes the temporary one when the rename is refused', async () => {
    writeFileSync(join(sshd.root, 'report.csv'), 'DELIVERED YESTERDAY\n');
    const uploader = new SftpUploader(optionsFor(sshd));
    try {
      const err = await uploader.put('report.csv', 'new version\n').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpRemoteError);
      expect(err).toMatchObject({ code: 'PERMISSION_DENIED', retryable: false, attempts: 1 });
      expect(readFileSync(join(sshd.root, 'report.csv'), 'utf8')).toBe('DELIVERED YESTERDAY\n');
      expect(readdirSync(sshd.root)).toEqual(['report.csv']);
    } finally {
      await uploader.close();
    }
  });
});

describe('SftpUploader against an OpenSSH server refusing posix-rename', () => {
  let sshd: SshdServer;

  beforeAll(async () => {
    sshd = await startSshd({ deniedSftpRequests: ['posix-rename'] });
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('falls back to rename, and to remove + rename to overwrite', async () => {
    const uploader = new SftpUploader(optionsFor(sshd));
    try {
      const first = await uploader.put('report.csv', 'v1');
      const second = await uploader.put('report.csv', 'v2 longer');
      expect(first.publishedWith).toBe('rename');
      expect(second.publishedWith).toBe('remove+rename');
      expect(readFileSync(join(sshd.root, 'report.csv'), 'utf8')).toBe('v2 longer');
      expect(partFiles(sshd.root)).toEqual([]);
    } finally {
      await uploader.close();
    }
  });
});
