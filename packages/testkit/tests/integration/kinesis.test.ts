import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { type KinesaliteServer, midpointHashKey, startKinesalite } from '@connect-wfm/testkit';

describe('startKinesalite', () => {
  let kinesis: KinesaliteServer;

  beforeAll(async () => {
    kinesis = await startKinesalite();
  });

  afterAll(async () => {
    await kinesis.stop();
  });

  it('listens on 127.0.0.1 with a port chosen at run time', () => {
    expect(kinesis.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(kinesis.endpoint).not.toMatch(/:4567$/);
  });

  it('puts records and reads them back through the real SDK client', async () => {
    const stream = await kinesis.createStream('roundtrip', 2);
    expect(stream.shardIds).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    expect(stream.streamArn).toMatch(/^arn:aws:kinesis:us-east-1:\d{12}:stream\/roundtrip$/);

    const put = await kinesis.putRecords(
      'roundtrip',
      Array.from({ length: 20 }, (_, i) => ({ data: `event-${i}`, partitionKey: `agent-${i}` })),
    );
    expect(put).toHaveLength(20);

    const client = kinesis.client();
    const read: string[] = [];
    for (const shardId of stream.shardIds) {
      const it = await client.send(
        new GetShardIteratorCommand({
          StreamName: 'roundtrip',
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const out = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
      for (const r of out.Records ?? []) {
        read.push(Buffer.from(r.Data ?? new Uint8Array()).toString('utf8'));
        const landed = put.find((p) => p.sequenceNumber === r.SequenceNumber);
        expect(landed?.shardId).toBe(shardId);
      }
    }
    expect(read.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `event-${i}`).sort());
  });

  it('targets a shard with an explicit hash key', async () => {
    await kinesis.createStream('explicit', 2);
    const [a, b] = await kinesis.putRecords('explicit', [
      { data: 'low', partitionKey: 'x', explicitHashKey: '0' },
      { data: 'high', partitionKey: 'x', explicitHashKey: (2n ** 128n - 1n).toString() },
    ]);
    expect(a?.shardId).toBe('shardId-000000000000');
    expect(b?.shardId).toBe('shardId-000000000001');
  });

  it('splits and merges shards and reports the children', async () => {
    await kinesis.createStream('reshard', 2);
    const [left, right] = await kinesis.splitShard('reshard', 'shardId-000000000000');
    const shards = await kinesis.listShards('reshard');
    const parent = shards.find((s) => s.ShardId === 'shardId-000000000000');
    expect(parent?.SequenceNumberRange?.EndingSequenceNumber).toBeDefined();
    expect(shards.find((s) => s.ShardId === left)?.ParentShardId).toBe('shardId-000000000000');
    expect(shards.find((s) => s.ShardId === right)?.HashKeyRange?.StartingHashKey).toBe(
      midpointHashKey('0', '170141183460469231731687303715884105727'),
    );

    const merged = await kinesis.mergeShards('reshard', left, right);
    const after = await kinesis.listShards('reshard');
    const child = after.find((s) => s.ShardId === merged);
    expect(child?.ParentShardId).toBe(left);
    expect(child?.AdjacentParentShardId).toBe(right);
  });
});

describe('startKinesalite in a child process', () => {
  it('serves the same API from another process and stops it', async () => {
    const kinesis = await startKinesalite({ childProcess: true });
    try {
      const stream = await kinesis.createStream('child', 1);
      await kinesis.putRecords('child', [{ data: 'from-child', partitionKey: 'a' }]);
      const client = kinesis.client();
      const it = await client.send(
        new GetShardIteratorCommand({
          StreamName: 'child',
          ShardId: stream.shardIds[0],
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const out = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
      expect(out.Records?.map((r) => Buffer.from(r.Data ?? []).toString('utf8'))).toEqual([
        'from-child',
      ]);
    } finally {
      await kinesis.stop();
    }
    await expect(fetch(kinesis.endpoint, { method: 'POST' })).rejects.toThrow();
  });
});
