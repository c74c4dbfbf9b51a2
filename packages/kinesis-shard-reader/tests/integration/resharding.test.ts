import { KinesisShardReader, type ShardBatch } from '@connect-wfm/kinesis-shard-reader';
import {
  type KinesaliteServer,
  type KinesisFaultProxy,
  type PutRecordInput,
  startKinesalite,
  startKinesisFaultProxy,
} from '@connect-wfm/testkit';
import { fast, memoryStore, text } from './helpers.js';

const KEYS = Array.from({ length: 12 }, (_, i) => `agent-${i}`);

/** Records `${key}:${n}`, n counting up per key from `from`. */
function phase(from: number, perKey: number): PutRecordInput[] {
  const out: PutRecordInput[] = [];
  for (let n = from; n < from + perKey; n++) {
    for (const key of KEYS) out.push({ data: `${key}:${n}`, partitionKey: key });
  }
  return out;
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('KinesisShardReader during a split and a merge', () => {
  let kinesis: KinesaliteServer;
  let proxy: KinesisFaultProxy;

  beforeAll(async () => {
    kinesis = await startKinesalite();
    proxy = await startKinesisFaultProxy({ target: kinesis.endpoint, childShards: 'present' });
  });

  afterAll(async () => {
    await proxy.stop();
    await kinesis.stop();
  });

  it.each([
    ['without ChildShards (ListShards at shard end, as kinesalite)', 'direct'],
    ['with ChildShards in GetRecords (as real Kinesis)', 'proxy'],
  ] as const)('loses no record and keeps every key in order %s', async (_label, via) => {
    const stream = `reshard-${via}`;
    await kinesis.createStream(stream, 2);
    const reader = new KinesisShardReader({
      client: via === 'direct' ? kinesis.client() : proxy.client(),
      stream,
      checkpointStore: memoryStore(stream),
      initialPosition: { type: 'TRIM_HORIZON' },
      maxRecords: 30,
      ...fast,
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
      await kinesis.putRecords(stream, phase(0, 10));
      const [, right] = await kinesis.splitShard(stream, 'shardId-000000000000');
      await kinesis.putRecords(stream, phase(10, 10));
      const merged = await kinesis.mergeShards(stream, right, 'shardId-000000000001');
      await kinesis.putRecords(stream, phase(20, 10));
      await waitUntil(
        () => batches.reduce((n, b) => n + b.records.length, 0) >= total,
        'every record',
      );
      expect(started.find((s) => s.shardId === merged)?.type).toBe('TRIM_HORIZON');
    } finally {
      await reader.stop();
      await reading;
    }

    const seen = batches.flatMap((b) => b.records.map((r) => text(r.data)));
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    for (const key of KEYS) {
      const ns = seen.filter((s) => s.startsWith(`${key}:`)).map((s) => Number(s.split(':')[1]));
      expect(ns).toEqual(Array.from({ length: 30 }, (_, i) => i));
    }
    expect(ended.sort()).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
      'shardId-000000000003',
    ]);
    const final = batches.filter((b) => b.shardEnded);
    expect(final.map((b) => b.shardId).sort()).toEqual(ended.sort());
    expect(final.find((b) => b.shardId === 'shardId-000000000000')?.childShardIds).toEqual([
      'shardId-000000000002',
      'shardId-000000000003',
    ]);
    expect(reader.metrics().shards['shardId-000000000000']?.status).toBe('finished');
  });

  it('does not start a child before its parent final batch is checkpointed', async () => {
    const stream = 'reshard-hold';
    await kinesis.createStream(stream, 1);
    await kinesis.putRecords(stream, phase(0, 2));
    await kinesis.splitShard(stream, 'shardId-000000000000');
    const reader = new KinesisShardReader({
      client: kinesis.client(),
      stream,
      checkpointStore: memoryStore(stream),
      initialPosition: { type: 'TRIM_HORIZON' },
      ...fast,
    });
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
});
