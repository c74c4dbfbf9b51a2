import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileCheckpointStore, LockTimeoutError } from '@connect-wfm/checkpoint-store';
import type { Logger } from '@connect-wfm/core';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../../..');
const holder = join(here, '../fixtures/frozen-holder.ts');
const SHARD = 'shardId-000000000000';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (msg: string) => {
      warnings.push(msg);
    },
    error: () => {},
  };
}

describe('FileCheckpointStore with a lock held by a live process that does not let go', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cps-hung-'));
    path = join(dir, 'checkpoints.json');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the lock over once one owner has kept it for lockHungMs, and says so', async () => {
    // our parent process is alive and keeps this lock forever
    await writeFile(
      `${path}.lock`,
      JSON.stringify({ pid: process.ppid, host: hostname(), nonce: 'stuck', at: Date.now() }),
    );
    const logger = recordingLogger();
    const store = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path,
      lockTimeoutMs: 5_000,
      lockHungMs: 200,
      fsync: false,
      logger,
    });
    await store.put(SHARD, { sequenceNumber: '7' });
    expect((await store.get(SHARD))?.sequenceNumber).toBe('7');
    expect(logger.warnings).toEqual([expect.stringContaining('took over a checkpoint lock file')]);
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  });

  it('still times out when lockHungMs is longer than lockTimeoutMs', async () => {
    await writeFile(
      `${path}.lock`,
      JSON.stringify({ pid: process.ppid, host: hostname(), nonce: 'stuck', at: Date.now() }),
    );
    const store = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path,
      lockTimeoutMs: 150,
      lockHungMs: 10_000,
    });
    await expect(store.put(SHARD, { sequenceNumber: '7' })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
  });

  it('refuses a lockHungMs that is not a positive integer', () => {
    expect(
      () => new FileCheckpointStore({ application: 'rta', stream: 'agents', path, lockHungMs: 0 }),
    ).toThrow(/lockHungMs must be a positive integer/);
  });

  it('discards the write of an owner that froze holding the lock, so the newer file stays', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', holder, path, SHARD, '2500'], {
      env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const deadline = Date.now() + 30_000;
    while (!out.includes('frozen') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(out).toContain('frozen');

    // The frozen child holds the lock; this store takes it over and writes 9.
    const store = new FileCheckpointStore({
      application: 'kill-test',
      stream: 'agents',
      path,
      lockHungMs: 300,
      fsync: false,
    });
    await store.put(SHARD, { sequenceNumber: '9' });

    expect(await exited).toBe(0);
    expect(err).toBe('');
    // The child woke up inside its write: the write is refused, not put over 9.
    expect(out.trim().split('\n')).toEqual(['frozen', 'error LOCK_LOST']);
    const reread = new FileCheckpointStore({ application: 'kill-test', stream: 'agents', path });
    expect((await reread.get(SHARD))?.sequenceNumber).toBe('9');
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  }, 60_000);
});
