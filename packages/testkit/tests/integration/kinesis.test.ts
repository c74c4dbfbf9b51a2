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

/** GetShardIterator AT_TIMESTAMP with a bounded wait: a hang fails the test instead of timing it out. */
async function iteratorAtTimestamp(
  kinesis: KinesaliteServer,
  stream: string,
  shardId: string,
  timestamp: Date,
): Promise<string | undefined> {
  const client = kinesis.client({ maxAttempts: 1 });
  const out = await client.send(
    new GetShardIteratorCommand({
      StreamName: stream,
      ShardId: shardId,
      ShardIteratorType: 'AT_TIMESTAMP',
      Timestamp: timestamp,
    }),
    { abortSignal: AbortSignal.timeout(10_000) },
  );
  return out.ShardIterator;
}

describe('startKinesalite AT_TIMESTAMP on a shard with nothing at or after the timestamp', () => {
  for (const childProcess of [false, true]) {
    it(`answers with an iterator at the tip, as real Kinesis does (childProcess: ${childProcess})`, async () => {
      const kinesis = await startKinesalite({ childProcess });
      try {
        const stream = await kinesis.createStream('quiet', 1);
        const shardId = stream.shardIds[0] ?? '';
        // empty shard
        const empty = await iteratorAtTimestamp(
          kinesis,
          'quiet',
          shardId,
          new Date(Date.now() - 60_000),
        );
        expect(empty).toEqual(expect.any(String));
        // records only before the timestamp: none returned, later records are
        await kinesis.putRecords('quiet', [{ data: 'old', partitionKey: 'a' }]);
        await new Promise((r) => setTimeout(r, 20));
        const it = await iteratorAtTimestamp(kinesis, 'quiet', shardId, new Date());
        const client = kinesis.client();
        const first = await client.send(new GetRecordsCommand({ ShardIterator: it }));
        expect(first.Records ?? []).toHaveLength(0);
        await kinesis.putRecords('quiet', [{ data: 'new', partitionKey: 'a' }]);
        const second = await client.send(
          new GetRecordsCommand({ ShardIterator: first.NextShardIterator }),
        );
        expect((second.Records ?? []).map((r) => Buffer.from(r.Data ?? []).toString())).toEqual([
          'new',
        ]);
        // a record at or after the timestamp is still found as before
        const since = await iteratorAtTimestamp(kinesis, 'quiet', shardId, new Date(0));
        const all = await client.send(new GetRecordsCommand({ ShardIterator: since }));
        expect((all.Records ?? []).map((r) => Buffer.from(r.Data ?? []).toString())).toEqual([
          'old',
          'new',
        ]);
      } finally {
        await kinesis.stop();
      }
    });
  }

  it('ends a closed shard with nothing after the timestamp', async () => {
    const kinesis = await startKinesalite();
    try {
      const stream = await kinesis.createStream('closed', 1);
      const parent = stream.shardIds[0] ?? '';
      await kinesis.putRecords('closed', [{ data: 'x', partitionKey: 'a' }]);
      await kinesis.splitShard('closed', parent);
      await new Promise((r) => setTimeout(r, 20));
      const it = await iteratorAtTimestamp(kinesis, 'closed', parent, new Date());
      const out = await kinesis.client().send(new GetRecordsCommand({ ShardIterator: it }));
      expect(out.Records ?? []).toHaveLength(0);
      expect(out.NextShardIterator).toBeUndefined();
    } finally {
      await kinesis.stop();
    }
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
