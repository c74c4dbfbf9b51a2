/**
 * A cold start over a stream resharded inside the AT_TIMESTAMP window, by a caller that
 * checkpoints only once it has delivered everything up to the tip (issue 15, "Cold start can
 * deadlock"), and checkpoints written with the caller's state in one commit.
 */
import { MemoryCheckpointStore, MemoryCheckpointTable } from '@connect-wfm/checkpoint-store';
import {
  CheckpointFailedError,
  type CheckpointPosition,
  KinesisShardReader,
  type ShardBatch,
} from '@connect-wfm/kinesis-shard-reader';
import { type KinesaliteServer, startKinesalite } from '@connect-wfm/testkit';
import { fast, testReader, text } from './helpers.js';
import {
  ENDED_SHARDS,
  expectEveryKeyInOrder,
  KEYS,
  phase,
  reshardPeers,
  splitAndMerge,
  VIAS,
} from './reshard-fixture.js';

function positionOf(batch: ShardBatch): CheckpointPosition {
  return {
    shardId: batch.shardId,
    lastSequenceNumber: batch.lastSequenceNumber,
    shardEnded: batch.shardEnded,
  };
}

interface ColdStartResult {
  seen: string[];
  caughtUp: boolean;
  started: Map<string, string>;
}

/**
 * Reads like the RTA daemon's cold start: deliver every batch, checkpoint nothing until the
 * reader is caught up, then write every position with the state in one commit and stop.
 */
async function coldStart(reader: KinesisShardReader, timeoutMs = 20_000): Promise<ColdStartResult> {
  const seen: string[] = [];
  const started = new Map<string, string>();
  const positions = new Map<string, CheckpointPosition>();
  let caughtUp = false;
  reader.on('shardStarted', (e) => started.set(e.shardId, e.position.type));
  reader.once('caughtUp', () => {
    caughtUp = true;
    void (async () => {
      try {
        await reader.checkpoint([...positions.values()], { state: { delivered: seen.length } });
      } finally {
        await reader.stop();
      }
    })();
  });
  const timer = setTimeout(() => void reader.stop(), timeoutMs);
  try {
    for await (const batch of reader) {
      for (const r of batch.records) seen.push(text(r.data));
      const before = positions.get(batch.shardId);
      // keep SHARD_END once seen: a final batch is the last of its shard
      if (before?.shardEnded !== true) positions.set(batch.shardId, positionOf(batch));
    }
  } finally {
    clearTimeout(timer);
    await reader.stop();
  }
  return { seen, caughtUp, started };
}

describe('KinesisShardReader cold start over a stream resharded in the AT_TIMESTAMP window', () => {
  const peers = reshardPeers();

  it.each(VIAS)(
    "reaches caughtUp with childShardStart 'parent-delivered', commits SHARD_END with the state, and resumes after it %s",
    async (_label, via) => {
      const kinesis = peers.kinesis();
      const stream = `cold-${via}`;
      const windowStart = new Date(Date.now() - 1_000);
      await kinesis.createStream(stream, 2);
      const merged = await splitAndMerge(kinesis, stream, 5);
      const table = new MemoryCheckpointTable();
      const store = () => new MemoryCheckpointStore({ application: 'rta', stream, table });
      const client = peers.client(via);
      const options = {
        client,
        stream,
        initialPosition: { type: 'AT_TIMESTAMP', timestamp: windowStart },
        childShardStart: 'parent-delivered',
        maxRecords: 25,
        ...fast,
      } as const;

      const first = await coldStart(
        new KinesisShardReader({ ...options, checkpointStore: store() }),
      );

      expect(first.caughtUp).toBe(true);
      expectEveryKeyInOrder(first.seen, 15);
      // children keep the window rather than reading their whole retention
      expect(first.started.get(merged)).toBe('AT_TIMESTAMP');
      const committed = await store().getState();
      expect(committed?.state).toEqual({ delivered: KEYS.length * 15 });
      const ends = [...(committed?.checkpoints ?? [])].filter(([, cp]) => cp.shardEnd);
      expect(ends.map(([id]) => id).sort()).toEqual(ENDED_SHARDS);
      expect(committed?.checkpoints.get(merged)?.sequenceNumber).toEqual(expect.any(String));

      // warm start: only what came after the commit is delivered
      await kinesis.putRecords(stream, phase(15, 2));
      const second = await coldStart(
        new KinesisShardReader({ ...options, checkpointStore: store() }),
      );
      expect(second.caughtUp).toBe(true);
      expectEveryKeyInOrder(second.seen, 2, 15);
      expect(second.started.has('shardId-000000000000')).toBe(false);
      expect((await store().getState())?.state).toEqual({ delivered: KEYS.length * 2 });
    },
  );

  it('reaches caughtUp on an AT_TIMESTAMP window with empty shards (no silent hang)', async () => {
    const kinesis = peers.kinesis();
    const stream = 'cold-empty';
    await kinesis.createStream(stream, 3);
    await kinesis.putRecords(stream, [{ data: 'old', partitionKey: 'a' }]);
    await new Promise((r) => setTimeout(r, 20));
    const reader = new KinesisShardReader({
      client: kinesis.client(),
      stream,
      checkpointStore: new MemoryCheckpointStore({ application: 'rta', stream }),
      initialPosition: { type: 'AT_TIMESTAMP', timestamp: new Date() },
      childShardStart: 'parent-delivered',
      ...fast,
    });
    const result = await coldStart(reader);
    expect(result.caughtUp).toBe(true);
    expect(result.seen).toEqual([]);
    expect([...result.started.values()]).toEqual(['AT_TIMESTAMP', 'AT_TIMESTAMP', 'AT_TIMESTAMP']);
  });
});

describe('KinesisShardReader.checkpoint(positions, { state })', () => {
  let kinesis: KinesaliteServer;

  beforeAll(async () => {
    kinesis = await startKinesalite();
  });

  afterAll(async () => {
    await kinesis.stop();
  });

  const iterators = new WeakMap<KinesisShardReader, AsyncIterator<ShardBatch>>();

  async function readAll(reader: KinesisShardReader, count: number): Promise<ShardBatch[]> {
    const batches: ShardBatch[] = [];
    const it = reader[Symbol.asyncIterator]();
    iterators.set(reader, it);
    let records = 0;
    while (records < count) {
      const r = await it.next();
      if (r.done) break;
      batches.push(r.value);
      records += r.value.records.length;
    }
    return batches;
  }

  it('writes the positions of several shards with the state in one commit, older positions ignored', async () => {
    const stream = 'commit-many';
    await kinesis.createStream(stream, 2);
    await kinesis.putRecords(stream, phase(0, 3));
    const checkpointStore = new MemoryCheckpointStore({ application: 'rta', stream });
    const commits: unknown[] = [];
    const original = checkpointStore.commit.bind(checkpointStore);
    checkpointStore.commit = async (updates, state) => {
      commits.push([[...updates], state]);
      await original(updates, state);
    };
    const reader = testReader(kinesis.client(), stream, { checkpointStore });
    const checkpointed: string[] = [];
    reader.on('checkpointed', (e) => checkpointed.push(e.shardId));
    try {
      const batches = await readAll(reader, KEYS.length * 3);
      const positions = batches.map(positionOf);
      await reader.checkpoint(positions, { state: { step: 1 } });
      expect(commits).toHaveLength(1);
      const shards = new Set(batches.map((b) => b.shardId));
      const got = await checkpointStore.getState();
      expect(got?.state).toEqual({ step: 1 });
      expect([...(got?.checkpoints.keys() ?? [])].sort()).toEqual([...shards].sort());
      for (const b of batches) {
        const last = batches.filter((x) => x.shardId === b.shardId).at(-1);
        expect(got?.checkpoints.get(b.shardId)?.sequenceNumber).toBe(last?.lastSequenceNumber);
      }
      expect(checkpointed.sort()).toEqual([...shards].sort());
      const metrics = reader.metrics();
      expect(metrics.checkpointsWritten).toBe(1);
      // the same (now older or equal) positions again: only the state moves
      await reader.checkpoint(positions.slice(0, 1), { state: { step: 2 } });
      expect(commits).toHaveLength(2);
      expect((commits[1] as [unknown[], unknown])[0]).toEqual([]);
      expect((await checkpointStore.getState())?.state).toEqual({ step: 2 });
      // a state-only commit with no position at all
      await reader.checkpoint([], { state: { step: 3 } });
      expect((await checkpointStore.getState())?.state).toEqual({ step: 3 });
    } finally {
      await reader.stop();
    }
  });

  it('rejects with CheckpointFailedError naming every shard when the commit is refused', async () => {
    const stream = 'commit-fenced';
    await kinesis.createStream(stream, 2);
    await kinesis.putRecords(stream, phase(0, 1));
    const table = new MemoryCheckpointTable();
    const mine = new MemoryCheckpointStore({ application: 'rta', stream, table });
    const rival = new MemoryCheckpointStore({ application: 'rta', stream, table });
    await mine.acquireLease({ owner: 'a', ttlMs: 50 });
    const reader = testReader(kinesis.client(), stream, { checkpointStore: mine });
    try {
      const batches = await readAll(reader, KEYS.length);
      await new Promise((r) => setTimeout(r, 100));
      await rival.acquireLease({ owner: 'b', ttlMs: 10_000 });
      const err = await reader
        .checkpoint(batches.map(positionOf), { state: { x: 1 } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointFailedError);
      const failed = err as CheckpointFailedError;
      expect([...failed.shardIds].sort()).toEqual(
        [...new Set(batches.map((b) => b.shardId))].sort(),
      );
      expect(failed.message).toMatch(/with the application state/);
      expect((failed.cause as { code?: string }).code).toBe('LEASE_LOST');
      expect(await rival.getState()).toBeUndefined();
      expect(reader.metrics().checkpointsWritten).toBe(0);
    } finally {
      await reader.stop();
    }
  });

  it('refuses a position of a shard it has not read, writing nothing', async () => {
    const stream = 'commit-unknown';
    await kinesis.createStream(stream, 1);
    await kinesis.putRecords(stream, phase(0, 1));
    const checkpointStore = new MemoryCheckpointStore({ application: 'rta', stream });
    const reader = testReader(kinesis.client(), stream, { checkpointStore });
    try {
      const batches = await readAll(reader, KEYS.length);
      await expect(
        reader.checkpoint(
          [
            positionOf(batches[0] as ShardBatch),
            { shardId: 'shardId-000000000009', lastSequenceNumber: '1' },
          ],
          { state: {} },
        ),
      ).rejects.toMatchObject({ code: 'INVALID_STATE' });
      expect(await checkpointStore.getState()).toBeUndefined();
      expect((await checkpointStore.getAll()).size).toBe(0);
    } finally {
      // the batch in hand was never checkpointed: give it back rather than wait for it
      await iterators.get(reader)?.return?.();
    }
  });
});
