import {
  ExpiredIteratorException,
  ExpiredNextTokenException,
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

describe('startKinesisFaultProxy: ListShards answers', () => {
  let kinesis: KinesaliteServer;
  let n = 0;
  const proxies: KinesisFaultProxy[] = [];

  beforeAll(async () => {
    kinesis = await startKinesalite();
  });

  afterAll(async () => {
    for (const p of proxies) await p.stop();
    await kinesis.stop();
  });

  async function setup(shards: number) {
    n += 1;
    const name = `listing-${n}`;
    await kinesis.createStream(name, shards);
    const proxy = await startKinesisFaultProxy({ target: kinesis.endpoint });
    proxies.push(proxy);
    const client = proxy.client({ maxAttempts: 1 });
    const ids = async (input: { StreamName?: string; NextToken?: string | undefined }) => {
      const out = await client.send(new ListShardsCommand(input));
      return { ids: (out.Shards ?? []).map((s) => s.ShardId), next: out.NextToken };
    };
    return { name, proxy, ids };
  }

  it('holds an answer until released, forwarding the request at once', async () => {
    const { name, proxy, ids } = await setup(1);
    const held = proxy.listShards.hold();
    let answered = false;
    const listing = ids({ StreamName: name }).then((r) => {
      answered = true;
      return r;
    });
    await held.received;
    // the listing was taken before the split; the split happens while its answer is held
    await kinesis.splitShard(name, 'shardId-000000000000');
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    held.release();
    expect((await listing).ids).toEqual(['shardId-000000000000']);
    expect((await ids({ StreamName: name })).ids).toHaveLength(3);
  });

  it('paginates one shard per page, and expires the next token the SDK parses', async () => {
    const { name, proxy, ids } = await setup(2);
    proxy.listShards.paginate(1);
    const first = await ids({ StreamName: name });
    expect(first.ids).toEqual(['shardId-000000000000']);
    expect(first.next).toEqual(expect.any(String));
    await expect(ids({ NextToken: first.next })).rejects.toBeInstanceOf(ExpiredNextTokenException);
    const again = await ids({ StreamName: name });
    const second = await ids({ NextToken: again.next });
    expect(second).toEqual({ ids: ['shardId-000000000001'], next: undefined });
    expect(proxy.listShards.requests).toEqual([
      { token: false, expired: false },
      { token: true, expired: true },
      { token: false, expired: false },
      { token: true, expired: false },
    ]);
  });

  it('pages through three shards one at a time', async () => {
    const { name, proxy, ids } = await setup(3);
    proxy.listShards.paginate();
    const seen: Array<string | undefined> = [];
    let page = await ids({ StreamName: name });
    seen.push(...page.ids);
    for (let i = 0; i < 5 && page.next !== undefined; i++) {
      page = await ids({ NextToken: page.next });
      seen.push(...page.ids);
    }
    expect(seen).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
    expect(proxy.listShards.requests).toHaveLength(3);
  });

  it('leaves a shard out of the next answer only', async () => {
    const { name, proxy, ids } = await setup(2);
    const sent = proxy.listShards.omit('shardId-000000000000');
    expect((await ids({ StreamName: name })).ids).toEqual(['shardId-000000000001']);
    await sent;
    expect((await ids({ StreamName: name })).ids).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
    ]);
  });
});
