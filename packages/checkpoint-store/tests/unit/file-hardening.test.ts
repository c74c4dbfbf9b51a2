/**
 * Issue 19: a checkpoint path that is a symbolic link (defect 6), a byte order mark before the
 * JSON, and shard ids read from the file.
 */
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileCheckpointStore,
  LockTimeoutError,
  StoreCorruptError,
} from '@connect-wfm/checkpoint-store';

const SHARD0 = 'shardId-000000000000';

describe('FileCheckpointStore through a symbolic link', () => {
  let dir: string;
  let realDir: string;
  let target: string;
  let link: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cps-link-'));
    realDir = join(dir, 'data');
    await mkdir(realDir);
    target = join(realDir, 'checkpoints.json');
    link = join(dir, 'checkpoints.json');
    await symlink(target, link);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the link's target and keeps the link a link (also when the target does not exist yet)", async () => {
    const store = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path: link,
      fsync: false,
    });
    await store.put(SHARD0, { sequenceNumber: '1' });
    await store.commit([[SHARD0, { sequenceNumber: '2' }]], { s: 1 });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(target);
    const doc = JSON.parse(await readFile(target, 'utf8'));
    expect(doc.scopes[0].checkpoints[0]).toMatchObject({ shardId: SHARD0, sequenceNumber: '2' });
    // lock and temporary files live beside the real file, none is left behind
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(realDir)).sort()).toEqual(['checkpoints.json']);
    expect((await readdir(dir)).sort()).toEqual(['checkpoints.json', 'data']);
    const direct = new FileCheckpointStore({ application: 'rta', stream: 'agents', path: target });
    expect((await direct.get(SHARD0))?.sequenceNumber).toBe('2');
  });

  it('takes the same lock for two spellings of one file', async () => {
    // a live process (our parent) holds the lock of the REAL file
    await writeFile(
      `${target}.lock`,
      JSON.stringify({ pid: process.ppid, host: hostname(), nonce: 'held', at: Date.now() }),
    );
    const viaLink = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path: link,
      lockTimeoutMs: 150,
    });
    const err = await viaLink.put(SHARD0, { sequenceNumber: '1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(String((err as Error).message)).toContain(`${target}.lock`);
  });

  it('loses no update when writers use the link and the real path at the same time', async () => {
    const a = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path: link,
      fsync: false,
    });
    const b = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path: target,
      fsync: false,
    });
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 20; i++) {
      writes.push(a.put(`shardId-a${i}`, { sequenceNumber: String(i) }));
      writes.push(b.put(`shardId-b${i}`, { sequenceNumber: String(i) }));
    }
    await Promise.all(writes);
    expect((await a.getAll()).size).toBe(40);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  });

  it('follows a chain of relative links', async () => {
    const hop = join(dir, 'hop.json');
    await symlink('checkpoints.json', hop);
    const store = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path: hop,
      fsync: false,
    });
    await store.put(SHARD0, { sequenceNumber: '9' });
    expect((await lstat(hop)).isSymbolicLink()).toBe(true);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(target, 'utf8')).scopes[0].checkpoints[0].sequenceNumber).toBe(
      '9',
    );
  });
});

describe('FileCheckpointStore reading a hand-edited file', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cps-edit-'));
    path = join(dir, 'checkpoints.json');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function doc(shardId: string): string {
    return JSON.stringify({
      format: 'connect-wfm-checkpoints',
      version: 1,
      scopes: [
        {
          application: 'rta',
          stream: 'agents',
          lease: null,
          checkpoints: [
            { shardId, sequenceNumber: '5', shardEnd: false, updatedAt: new Date(0).toISOString() },
          ],
        },
      ],
    });
  }

  it('accepts a byte order mark before the JSON and drops it at the next write', async () => {
    await writeFile(path, `\uFEFF${doc(SHARD0)}`, 'utf8');
    const store = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path,
      fsync: false,
    });
    expect((await store.get(SHARD0))?.sequenceNumber).toBe('5');
    await store.put(SHARD0, { sequenceNumber: '6' });
    expect((await readFile(path, 'utf8')).charCodeAt(0)).toBe('{'.charCodeAt(0));
  });

  it('says where the JSON breaks, without quoting the content', async () => {
    await writeFile(path, '{\n  "format": "connect-wfm-checkpoints",\n  "version": 1,\n  oops\n}');
    const store = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    const err = await store.getAll().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreCorruptError);
    expect((err as Error).message).toMatch(/line 4 column \d+/);
    expect((err as Error).message).not.toContain('oops');
  });

  it.each([['shard/0'], [''], ['x'.repeat(129)], ['shard 0']])(
    'refuses a shard id read from the file that is not a Kinesis shard id (%j)',
    async (shardId) => {
      await writeFile(path, doc(shardId));
      const store = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
      const err = await store.getAll().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreCorruptError);
      expect((err as Error).message).toContain('scopes.0.checkpoints.0.shardId');
      expect((err as Error).message).toContain('not a Kinesis shard id');
      // nothing was overwritten
      expect(await readFile(path, 'utf8')).toBe(doc(shardId));
    },
  );
});
