import type { ShardBatch } from '@connect-wfm/kinesis-shard-reader';
import { waitFor } from '@connect-wfm/testkit';
import { recordGetRecordsLimits, testReader, text } from './helpers.js';
import {
  ENDED_SHARDS,
  expectEveryKeyInOrder,
  KEYS,
  phase,
  reshardPeers,
  splitAndMerge,
  VIAS,
} from './reshard-fixture.js';

describe('KinesisShardReader during a split and a merge', () => {
  const peers = reshardPeers();

  it.each(VIAS)('loses no record and keeps every key in order %s', async (_label, via) => {
    const kinesis = peers.kinesis();
    const stream = `reshard-${via}`;
    await kinesis.createStream(stream, 2);
    const reader = testReader(peers.client(via), stream, {
      maxRecords: 30,
    });
    const started: Array<{ shardId: string; type: string }> = [];
    reader.on('shardStarted', (e) => started.push({ shardId: e.shardId, type: e.position.type }));
    const ended: string[] = [];
    reader.on('shardEnded', (e) => ended.push(e.shardId));
    const batches: ShardBatch[] = [];
    const reading = (async () => {
      for await (const batch of reader) {
        batches.push(batch);
        await batch.checkpoint();
      }
    })();

    const total = KEYS.length * 30;
    try {
      const merged = await splitAndMerge(kinesis, stream, 10);
      await waitFor(
        () => batches.reduce((n, b) => n + b.records.length, 0) >= total,
        'every record',
        15_000,
        20,
      );
      expect(started.find((s) => s.shardId === merged)?.type).toBe('TRIM_HORIZON');
    } finally {
      await reader.stop();
      await reading;
    }

    expectEveryKeyInOrder(
      batches.flatMap((b) => b.records.map((r) => text(r.data))),
      30,
    );
    expect(ended.sort()).toEqual(ENDED_SHARDS);
    const final = batches.filter((b) => b.shardEnded);
    expect(final.map((b) => b.shardId).sort()).toEqual(ended.sort());
    expect(final.find((b) => b.shardId === 'shardId-000000000000')?.childShardIds).toEqual([
      'shardId-000000000002',
      'shardId-000000000003',
    ]);
    expect(reader.metrics().shards['shardId-000000000000']?.status).toBe('finished');
  });

  it('does not start a child before its parent final batch is checkpointed', async () => {
    const kinesis = peers.kinesis();
    const stream = 'reshard-hold';
    await kinesis.createStream(stream, 1);
    await kinesis.putRecords(stream, phase(0, 2));
    await kinesis.splitShard(stream, 'shardId-000000000000');
    const reader = testReader(kinesis.client(), stream);
    const started: string[] = [];
    reader.on('shardStarted', (e) => started.push(e.shardId));
    const it = reader[Symbol.asyncIterator]();
    let final: ShardBatch | undefined;
    for (let i = 0; i < 5 && final === undefined; i++) {
      const r = await it.next();
      if (r.done) break;
      if (r.value.shardEnded) final = r.value;
      else await r.value.checkpoint();
    }
    expect(final?.shardId).toBe('shardId-000000000000');
    await new Promise((r) => setTimeout(r, 400));
    expect(started).toEqual(['shardId-000000000000']);
    await final?.checkpoint();
    expect(started.sort()).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
      'shardId-000000000002',
    ]);
    await it.return?.();
  });

  it('shares maxRecordsInFlight among the shards being read, before and after a split', async () => {
    const kinesis = peers.kinesis();
    const stream = 'reshard-budget';
    await kinesis.createStream(stream, 1);
    await kinesis.putRecords(stream, phase(0, 10));
    await kinesis.splitShard(stream, 'shardId-000000000000');
    await kinesis.putRecords(stream, phase(10, 10));
    const client = kinesis.client();
    const limits = recordGetRecordsLimits(client);
    const reader = testReader(client, stream, {
      maxRecords: 1000,
      maxRecordsInFlight: 60,
      childShardStart: 'parent-delivered',
    });
    const batches: ShardBatch[] = [];
    const calls: Array<{ shardId: string; limitsBefore: number }> = [];
    try {
      for await (const batch of reader) {
        batches.push(batch);
        calls.push({ shardId: batch.shardId, limitsBefore: limits.length });
        await batch.checkpoint();
        if (batches.reduce((n, b) => n + b.records.length, 0) >= KEYS.length * 20) break;
      }
    } finally {
      await reader.stop();
    }

    expectEveryKeyInOrder(
      batches.flatMap((b) => b.records.map((r) => text(r.data))),
      20,
    );
    // The parent alone gets the whole budget; once its two children read, each asks for at
    // most half of it (a third while the parent's final batch still waits).
    expect(limits[0]).toBe(60);
    const firstChild = calls.findIndex((c) => c.shardId !== 'shardId-000000000000');
    expect(firstChild).toBeGreaterThan(0);
    const childCalls = limits.slice(calls[firstChild]?.limitsBefore ?? limits.length);
    expect(childCalls.length).toBeGreaterThan(0);
    expect(childCalls.every((l) => l === 30 || l === 20)).toBe(true);
    expect(batches.every((b) => b.records.length <= 60)).toBe(true);
    expect(
      batches
        .filter((b) => b.shardId !== 'shardId-000000000000')
        .every((b) => b.records.length <= 30),
    ).toBe(true);
  });
});
