import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InvalidArgumentException,
  type KinesisClient,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-kinesis';
import {
  type KinesaliteServer,
  type KinesisFaultProxy,
  startKinesalite,
  startKinesisFaultProxy,
} from '@connect-wfm/testkit';

describe('startKinesisFaultProxy', () => {
  let kinesis: KinesaliteServer;
  let proxy: KinesisFaultProxy;
  let client: KinesisClient;
  let streamArn: string;

  beforeAll(async () => {
    kinesis = await startKinesalite();
    proxy = await startKinesisFaultProxy({ target: kinesis.endpoint });
    client = proxy.client({ maxAttempts: 1 });
    ({ streamArn } = await kinesis.createStream('faults', 2));
    await kinesis.putRecords(
      'faults',
      Array.from({ length: 6 }, (_, i) => ({
        data: `r${i}`,
        partitionKey: 'p',
        explicitHashKey: '1',
      })),
    );
  });

  afterEach(() => {
    proxy.clearFaults();
  });

  afterAll(async () => {
    await proxy.stop();
    await kinesis.stop();
  });

  const iterator = async (shardId = 'shardId-000000000000'): Promise<string> => {
    const out = await client.send(
      new GetShardIteratorCommand({
        StreamName: 'faults',
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    return out.ShardIterator ?? '';
  };

  it('forwards requests untouched when no fault is queued', async () => {
    const out = await client.send(new GetRecordsCommand({ ShardIterator: await iterator() }));
    expect(out.Records).toHaveLength(6);
    expect(proxy.stats().requests.GetRecords).toBeGreaterThanOrEqual(1);
  });

  it('answers GetRecords with ProvisionedThroughputExceededException the SDK parses', async () => {
    proxy.inject({ kind: 'throttle', times: 2 });
    const it = await iterator();
    await expect(client.send(new GetRecordsCommand({ ShardIterator: it }))).rejects.toBeInstanceOf(
      ProvisionedThroughputExceededException,
    );
    await expect(client.send(new GetRecordsCommand({ ShardIterator: it }))).rejects.toBeInstanceOf(
      ProvisionedThroughputExceededException,
    );
    const out = await client.send(new GetRecordsCommand({ ShardIterator: it }));
    expect(out.Records).toHaveLength(6);
    expect(proxy.stats().injected.throttle).toBe(2);
  });

  it('lets the SDK retry injected throttles within its maxAttempts', async () => {
    const retrying = proxy.client({ maxAttempts: 3 });
    proxy.inject({ kind: 'throttle', times: 2 });
    const out = await retrying.send(new GetRecordsCommand({ ShardIterator: await iterator() }));
    expect(out.Records).toHaveLength(6);
    expect(out.$metadata.attempts).toBe(3);
  });

  it('hits only the shard it targets, tracking iterators per shard', async () => {
    proxy.inject({ kind: 'expiredIterator', shardId: 'shardId-000000000001' });
    const other = await client.send(new GetRecordsCommand({ ShardIterator: await iterator() }));
    expect(other.Records).toHaveLength(6);
    await expect(
      client.send(new GetRecordsCommand({ ShardIterator: await iterator('shardId-000000000001') })),
    ).rejects.toBeInstanceOf(ExpiredIteratorException);
  });

  it('drops the connection so the client sees a network error', async () => {
    proxy.inject({ kind: 'dropConnection' });
    await expect(
      client.send(new GetRecordsCommand({ ShardIterator: await iterator() })),
    ).rejects.toThrow();
    expect(proxy.stats().injected.dropConnection).toBe(1);
  });

  it('translates StreamARN into the StreamName kinesalite needs', async () => {
    const out = await client.send(new ListShardsCommand({ StreamARN: streamArn }));
    expect(out.Shards?.map((s) => s.ShardId)).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
    ]);
  });

  it('emulates a retention trim: old sequence numbers rejected, TRIM_HORIZON moved', async () => {
    const { Records = [] } = await client.send(
      new GetRecordsCommand({ ShardIterator: await iterator() }),
    );
    const seqs = Records.map((r) => r.SequenceNumber ?? '');
    proxy.trim('faults', 'shardId-000000000000', seqs[3] ?? '');
    await expect(
      client.send(
        new GetShardIteratorCommand({
          StreamName: 'faults',
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          StartingSequenceNumber: seqs[1],
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
    const out = await client.send(new GetRecordsCommand({ ShardIterator: await iterator() }));
    expect(out.Records?.map((r) => r.SequenceNumber)).toEqual(seqs.slice(3));
  });

  it('adds ChildShards at the end of a closed shard when asked to', async () => {
    await kinesis.createStream('ended', 1);
    const [a, b] = await kinesis.splitShard('ended', 'shardId-000000000000');
    const readToEnd = async () => {
      let it = (
        await client.send(
          new GetShardIteratorCommand({
            StreamName: 'ended',
            ShardId: 'shardId-000000000000',
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      for (let i = 0; i < 10 && it !== undefined; i++) {
        const out = await client.send(new GetRecordsCommand({ ShardIterator: it }));
        if (out.NextShardIterator === undefined) return out;
        it = out.NextShardIterator;
      }
      throw new Error('shard did not end');
    };
    expect((await readToEnd()).ChildShards).toBeUndefined();
    proxy.setChildShards('present');
    const end = await readToEnd();
    proxy.setChildShards('absent');
    expect(end.ChildShards?.map((c) => c.ShardId)).toEqual([a, b]);
    expect(end.ChildShards?.[0]?.ParentShards).toEqual(['shardId-000000000000']);
  });
});
