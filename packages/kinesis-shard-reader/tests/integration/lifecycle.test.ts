import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileCheckpointStore,
  MemoryCheckpointStore,
  MemoryCheckpointTable,
} from '@connect-wfm/checkpoint-store';
import {
  CheckpointFailedError,
  KinesisShardReader,
  ReaderStateError,
  type ShardBatch,
} from '@connect-wfm/kinesis-shard-reader';
import { type KinesaliteServer, startKinesalite } from '@connect-wfm/testkit';
import { fast, memoryStore, recordCount, spread } from './helpers.js';

describe('KinesisShardReader life cycle', () => {
  let kinesis: KinesaliteServer;
  let n = 0;

  beforeAll(async () => {
    kinesis = await startKinesalite();
  });

  afterAll(async () => {
    await kinesis.stop();
  });

  async function reader(count: number, extra: { signal?: AbortSignal } = {}) {
    n += 1;
    const name = `life-${n}`;
    await kinesis.createStream(name, 2);
    await kinesis.putRecords(name, spread(name, count, 2));
    const store = memoryStore(name);
    return {
      store,
      reader: new KinesisShardReader({
        client: kinesis.client(),
        stream: name,
        checkpointStore: store,
        initialPosition: { type: 'TRIM_HORIZON' },
        maxRecords: 10,
        ...fast,
        ...extra,
      }),
    };
  }

  it('stop() resolves only after the batch in hand is processed and checkpointed', async () => {
    const { reader: r, store } = await reader(40);
    const order: string[] = [];
    let held: ShardBatch | undefined;
    let stopping: Promise<void> | undefined;
    for await (const batch of r) {
      held = batch;
      stopping = r.stop().then(() => {
        order.push('stopped');
      });
      await new Promise((res) => setTimeout(res, 100));
      order.push('processed');
      await batch.checkpoint();
      order.push('checkpointed');
    }
    await stopping;
    expect(order).toEqual(['processed', 'checkpointed', 'stopped']);
    expect((await store.get(held?.shardId ?? ''))?.sequenceNumber).toBe(held?.lastSequenceNumber);
    // Nothing else was handed out: the loop ended after the first batch.
    expect(r.metrics().batchesDelivered).toBe(1);
  });

  it('stop() awaited inside the loop resolves once the batch in hand is checkpointed', async () => {
    const { reader: r } = await reader(40);
    let batches = 0;
    for await (const batch of r) {
      batches += 1;
      await batch.checkpoint();
      await r.stop();
    }
    expect(batches).toBe(1);
  });

  it('ends the iteration when the signal is aborted', async () => {
    const controller = new AbortController();
    const { reader: r } = await reader(40, { signal: controller.signal });
    const stopped = new Promise<void>((res) => r.once('stopped', res));
    let batches = 0;
    for await (const batch of r) {
      batches += 1;
      await batch.checkpoint();
      if (batches === 2) controller.abort();
    }
    await stopped;
    expect(batches).toBe(2);
  });

  it('removes its abort listener from the caller signal once stopped', async () => {
    const controller = new AbortController();
    const { reader: started } = await reader(10, { signal: controller.signal });
    const { reader: unused } = await reader(2, { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(2);
    for await (const batch of started) {
      await batch.checkpoint();
      break;
    }
    await unused.stop();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('reports as lastSequenceNumber only what was handed to the caller', async () => {
    const { reader: r } = await reader(20);
    const it = r[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new Error('expected a batch');
    const other = ['shardId-000000000000', 'shardId-000000000001'].find(
      (id) => id !== first.value.shardId,
    ) as string;
    // the other shard's first batch is fetched and queued, but never handed out
    const deadline = Date.now() + 5_000;
    while ((r.metrics().shards[other]?.recordsRead ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error(`shard ${other} was never fetched`);
      await new Promise((res) => setTimeout(res, 10));
    }
    await first.value.checkpoint();
    await it.return?.();
    const shards = r.metrics().shards;
    expect(shards[first.value.shardId]?.lastSequenceNumber).toBe(first.value.lastSequenceNumber);
    expect(shards[other]?.recordsRead).toBeGreaterThan(0);
    expect(shards[other]?.lastSequenceNumber).toBeNull();
  });

  it('refuses a sequence number with leading zeros with ReaderStateError, like the store', async () => {
    const { reader: r } = await reader(4);
    const it = r[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new Error('expected a batch');
    await expect(
      r.checkpoint({ shardId: first.value.shardId, lastSequenceNumber: '007' }),
    ).rejects.toBeInstanceOf(ReaderStateError);
    await it.return?.();
  });

  it('run() checkpoints each batch after the handler resolved', async () => {
    const { reader: r, store } = await reader(30);
    const seen: ShardBatch[] = [];
    const done = r.run(async (batch) => {
      seen.push(batch);
      // Not yet checkpointed while the handler runs.
      const cp = await store.get(batch.shardId);
      expect(cp?.sequenceNumber).not.toBe(batch.lastSequenceNumber);
      if (recordCount(seen) >= 30) void r.stop();
    });
    await done;
    for (const shardId of ['shardId-000000000000', 'shardId-000000000001']) {
      const last = seen.filter((b) => b.shardId === shardId).at(-1);
      expect((await store.get(shardId))?.sequenceNumber).toBe(last?.lastSequenceNumber);
    }
  });

  it('run() rejects with the handler error and does not checkpoint that batch', async () => {
    const { reader: r, store } = await reader(10);
    const failure = new Error('delivery failed');
    let failed: ShardBatch | undefined;
    await expect(
      r.run((batch) => {
        failed = batch;
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await store.get(failed?.shardId ?? '')).toBeUndefined();
  });

  it('refuses to be iterated twice', async () => {
    const { reader: r } = await reader(2);
    const first = r[Symbol.asyncIterator]();
    expect(() => r[Symbol.asyncIterator]()).toThrow(ReaderStateError);
    await first.return?.();
  });

  it('refuses SHARD_END for a shard that has not ended', async () => {
    const { reader: r } = await reader(4);
    const it = r[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new Error('expected a batch');
    await expect(r.checkpoint({ ...first.value, shardEnded: true })).rejects.toBeInstanceOf(
      ReaderStateError,
    );
    await expect(
      r.checkpoint({ shardId: 'shardId-000000000042', lastSequenceNumber: '1' }),
    ).rejects.toBeInstanceOf(ReaderStateError);
    await it.return?.();
  });

  it('cannot checkpoint once another process took the leader lease (fencing)', async () => {
    await kinesis.createStream('leased', 1);
    await kinesis.putRecords('leased', spread('leased', 10, 1));
    const table = new MemoryCheckpointTable();
    const mine = new MemoryCheckpointStore({ application: 'test', stream: 'leased', table });
    const theirs = new MemoryCheckpointStore({ application: 'test', stream: 'leased', table });
    await mine.acquireLease({ owner: 'process-a', ttlMs: 50 });
    const r = new KinesisShardReader({
      client: kinesis.client(),
      stream: 'leased',
      checkpointStore: mine,
      initialPosition: { type: 'TRIM_HORIZON' },
      ...fast,
    });
    const it = r[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new Error('expected a batch');
    // Process A stalls past its lease; process B takes over.
    await new Promise((res) => setTimeout(res, 100));
    await theirs.acquireLease({ owner: 'process-b', ttlMs: 10_000 });
    const failure = await first.value.checkpoint().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(CheckpointFailedError);
    expect((failure as CheckpointFailedError).cause).toMatchObject({ code: 'LEASE_LOST' });
    expect(await theirs.get('shardId-000000000000')).toBeUndefined();
    await it.return?.();
  });

  it('stop() awaited after a checkpoint refused for a lost lease resolves (file store)', async () => {
    await kinesis.createStream('lost-lease', 1);
    await kinesis.putRecords('lost-lease', spread('lost-lease', 20, 1));
    const dir = await mkdtemp(join(tmpdir(), 'ksr-lease-'));
    const path = join(dir, 'checkpoints.json');
    const scope = { application: 'test', stream: 'lost-lease', path, fsync: false };
    const mine = new FileCheckpointStore(scope);
    const theirs = new FileCheckpointStore(scope);
    try {
      await mine.acquireLease({ owner: 'process-a', ttlMs: 50 });
      const r = new KinesisShardReader({
        client: kinesis.client(),
        stream: 'lost-lease',
        checkpointStore: mine,
        initialPosition: { type: 'TRIM_HORIZON' },
        maxRecords: 5,
        ...fast,
      });
      let refused: unknown;
      let batches = 0;
      // the documented reaction: catch CheckpointFailedError, then await stop() in the loop body
      const loop = (async () => {
        for await (const batch of r) {
          batches += 1;
          await new Promise((res) => setTimeout(res, 100));
          await theirs.acquireLease({ owner: 'process-b', ttlMs: 10_000 });
          try {
            await batch.checkpoint();
          } catch (err) {
            if (!(err instanceof CheckpointFailedError)) throw err;
            refused = err;
            await r.stop();
          }
        }
      })();
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<'hang'>((res) => {
        timer = setTimeout(() => res('hang'), 5_000);
      });
      const outcome = await Promise.race([loop.then(() => 'ended' as const), hang]);
      clearTimeout(timer);
      expect(outcome).toBe('ended');
      expect(batches).toBe(1);
      expect((refused as CheckpointFailedError).cause).toMatchObject({ code: 'LEASE_LOST' });
      // the batch in hand was abandoned uncheckpointed: it is read again by the new leader
      expect(await theirs.get('shardId-000000000000')).toBeUndefined();
      expect(r.metrics().checkpointsWritten).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
