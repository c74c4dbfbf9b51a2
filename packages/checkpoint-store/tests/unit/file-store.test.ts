import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileCheckpointStore,
  LockTimeoutError,
  StoreCorruptError,
} from '@connect-wfm/checkpoint-store';
import { describeCheckpointStoreContract } from '../contract/checkpoint-store-contract.js';

const SHARD0 = 'shardId-000000000000';
let contractDir: string;

describeCheckpointStoreContract(
  'file',
  async () => {
    contractDir = await mkdtemp(join(tmpdir(), 'cps-contract-'));
    const path = join(contractDir, 'checkpoints.json');
    return {
      create: async (application, stream) => new FileCheckpointStore({ application, stream, path }),
    };
  },
  async () => {
    await rm(contractDir, { recursive: true, force: true });
  },
);

describe('FileCheckpointStore', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cps-file-'));
    path = join(dir, 'checkpoints.json');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes layout version 2 with the committed state only once a scope holds one', async () => {
    const store = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    await store.put(SHARD0, { sequenceNumber: '1' });
    expect(JSON.parse(await readFile(path, 'utf8')).version).toBe(1);
    await store.commit([[SHARD0, { sequenceNumber: '2' }]], { agents: ['a'] });
    const doc = JSON.parse(await readFile(path, 'utf8'));
    expect(doc.version).toBe(2);
    expect(doc.scopes[0].committed).toMatchObject({
      checkpoints: [{ shardId: SHARD0, sequenceNumber: '2', shardEnd: false }],
      state: '{"agents":["a"]}',
    });
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
    const reopened = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    expect((await reopened.getState())?.state).toEqual({ agents: ['a'] });
  });

  it('keeps a large committed state intact through slice-wise writes, byte copies on later writes and a write by another instance', async () => {
    // Over 2 MB, with quotes, backslashes and a surrogate pair across the 1 MiB slice boundary.
    const filler = 'x'.repeat((1 << 20) - 20);
    const big = {
      a: `${filler}"\\😀é`,
      agents: Array.from({ length: 5000 }, (_, i) => `agent.${i} 😀`),
    };
    const store = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    await store.acquireLease({ owner: 'pod-a', ttlMs: 60_000 });
    await store.commit([[SHARD0, { sequenceNumber: '7' }]], big);
    // Later writes by this instance copy the stored state from the old file, unparsed.
    await store.renewLease();
    await store.put(SHARD0, { sequenceNumber: '8' });
    const doc = JSON.parse(await readFile(path, 'utf8'));
    expect(JSON.parse(doc.scopes[0].committed.state)).toEqual(big);
    expect(doc.scopes[0].checkpoints[0].sequenceNumber).toBe('8');
    // Another instance (another scope in the same file) rewrites the file: the first one reads it again.
    const other = new FileCheckpointStore({ application: 'rta', stream: 'other', path });
    await other.commit([[SHARD0, { sequenceNumber: '3' }]], { other: true });
    await store.renewLease();
    await store.commit([[SHARD0, { sequenceNumber: '9' }]], { small: 1 });
    await other.put(SHARD0, { sequenceNumber: '4' });
    const reopened = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    expect((await reopened.getState())?.state).toEqual({ small: 1 });
    const reopenedOther = new FileCheckpointStore({ application: 'rta', stream: 'other', path });
    expect((await reopenedOther.getState())?.state).toEqual({ other: true });
    expect((await reopenedOther.get(SHARD0))?.sequenceNumber).toBe('4');
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  });

  it('writes one readable JSON document and leaves no lock or temporary file behind', async () => {
    const store = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    await store.put(SHARD0, { sequenceNumber: '42', shardEnd: true });
    await store.acquireLease({ owner: 'pod-a', ttlMs: 1000 });
    const doc = JSON.parse(await readFile(path, 'utf8'));
    expect(doc).toMatchObject({
      format: 'connect-wfm-checkpoints',
      version: 1,
      scopes: [
        {
          application: 'rta',
          stream: 'agents',
          lease: { owner: 'pod-a', token: 1 },
          checkpoints: [{ shardId: SHARD0, sequenceNumber: '42', shardEnd: true }],
        },
      ],
    });
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  });

  it('refuses a file that is not its JSON layout with StoreCorruptError and leaves it untouched', async () => {
    await writeFile(path, '{"format":"connect-wfm-checkpoints","version":1,"scopes":[{');
    const store = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    await expect(store.get(SHARD0)).rejects.toBeInstanceOf(StoreCorruptError);
    await expect(store.put(SHARD0, { sequenceNumber: '1' })).rejects.toBeInstanceOf(
      StoreCorruptError,
    );
    await writeFile(path, JSON.stringify({ format: 'other', version: 1, scopes: [] }));
    await expect(store.getAll()).rejects.toThrow(/does not have the layout/);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      format: 'other',
      version: 1,
      scopes: [],
    });
  });

  it('removes the stale lock of a dead process and writes', async () => {
    await writeFile(
      `${path}.lock`,
      JSON.stringify({ pid: 2 ** 22 + 17, host: hostname(), nonce: 'dead', at: Date.now() }),
    );
    const store = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path,
      lockTimeoutMs: 2000,
    });
    await store.put(SHARD0, { sequenceNumber: '7' });
    expect((await store.get(SHARD0))?.sequenceNumber).toBe('7');
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  });

  /** Start time of `pid` from /proc (field 22), as the lock file records it. */
  function startTimeOf(pid: number): string {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  }
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

  // Locks left behind whose owner is provably gone although its pid may be alive; each is
  // removed and the write goes through.
  it.each([
    [
      // what kill -9 of the previous container leaves: same hostname, same pid (PID 1), old format
      'left by an earlier process with our own pid and host (container PID 1 restart)',
      () => ({ pid: process.pid, nonce: 'dead', at: Date.now() - 3_600_000 }),
    ],
    [
      'with our pid but another process start time',
      () => ({ pid: process.pid, nonce: 'old', at: Date.now(), start: '1', boot }),
    ],
    [
      // the recorded owner started at tick 1; the live process with that pid started later
      'whose pid now belongs to another live process (pid reused)',
      () => ({ pid: process.ppid, nonce: 'reused', at: Date.now(), start: '1', boot }),
    ],
    [
      'taken before the host rebooted (other boot id)',
      () => ({
        pid: process.ppid,
        nonce: 'before-reboot',
        at: Date.now(),
        start: startTimeOf(process.ppid),
        boot: '00000000-0000-0000-0000-000000000000',
      }),
    ],
  ])('removes a lock %s', async (_what, lock) => {
    await writeFile(`${path}.lock`, JSON.stringify({ host: hostname(), ...lock() }));
    const store = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path,
      lockTimeoutMs: 2000,
    });
    await store.put(SHARD0, { sequenceNumber: '7' });
    expect((await store.get(SHARD0))?.sequenceNumber).toBe('7');
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  });

  it('keeps waiting for a lock of a live process recorded with its real start time', async () => {
    for (const pid of [process.ppid, process.pid]) {
      // process.pid: another copy of the store inside this very process holds it
      await writeFile(
        `${path}.lock`,
        JSON.stringify({
          pid,
          host: hostname(),
          nonce: 'live',
          at: Date.now(),
          start: startTimeOf(pid),
          boot,
        }),
      );
      const store = new FileCheckpointStore({
        application: 'rta',
        stream: 'agents',
        path,
        lockTimeoutMs: 150,
      });
      await expect(store.put(SHARD0, { sequenceNumber: '7' })).rejects.toBeInstanceOf(
        LockTimeoutError,
      );
    }
    expect(await readdir(dir)).toEqual(['checkpoints.json.lock']);
  });

  it('times out with LockTimeoutError while a live process holds the lock', async () => {
    await writeFile(
      `${path}.lock`,
      JSON.stringify({ pid: process.ppid, host: hostname(), nonce: 'alive', at: Date.now() }),
    );
    const store = new FileCheckpointStore({
      application: 'rta',
      stream: 'agents',
      path,
      lockTimeoutMs: 150,
    });
    const err = await store.put(SHARD0, { sequenceNumber: '7' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(String((err as Error).message)).toContain(`pid ${process.ppid}`);
    expect(await store.get(SHARD0)).toBeUndefined();
  });

  it('keeps several scopes in one file', async () => {
    const a = new FileCheckpointStore({ application: 'rta', stream: 'one', path });
    const b = new FileCheckpointStore({ application: 'hist', stream: 'two', path });
    await a.put(SHARD0, { sequenceNumber: '1' });
    await b.put(SHARD0, { sequenceNumber: '2' });
    const doc = JSON.parse(await readFile(path, 'utf8')) as {
      scopes: Array<{ application: string }>;
    };
    expect(doc.scopes.map((s) => s.application)).toEqual(['hist', 'rta']);
    expect((await a.get(SHARD0))?.sequenceNumber).toBe('1');
  });
});
