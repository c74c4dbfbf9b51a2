import {
  InvalidOptionsError,
  KinesisShardReader,
  StreamNotFoundError,
} from '@connect-wfm/kinesis-shard-reader';
import {
  type KinesaliteServer,
  type KinesisFaultProxy,
  startKinesalite,
  startKinesisFaultProxy,
} from '@connect-wfm/testkit';
import { consume, fast, memoryStore, payloads, recordCount, spread } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KinesisShardReader start positions and stream references', () => {
  let kinesis: KinesaliteServer;
  let proxy: KinesisFaultProxy;

  beforeAll(async () => {
    kinesis = await startKinesalite();
    proxy = await startKinesisFaultProxy({ target: kinesis.endpoint });
  });

  afterAll(async () => {
    await proxy.stop();
    await kinesis.stop();
  });

  it('starts shards without a checkpoint AT_TIMESTAMP', async () => {
    await kinesis.createStream('at-ts', 2);
    await kinesis.putRecords('at-ts', spread('before', 20, 2));
    await sleep(50);
    const timestamp = new Date();
    await sleep(50);
    // Every shard gets records after the timestamp (kinesalite never answers AT_TIMESTAMP otherwise).
    await kinesis.putRecords('at-ts', spread('after', 20, 2));
    const reader = new KinesisShardReader({
      client: kinesis.client(),
      stream: 'at-ts',
      checkpointStore: memoryStore('at-ts'),
      initialPosition: { type: 'AT_TIMESTAMP', timestamp },
      ...fast,
    });
    const positions: string[] = [];
    reader.on('shardStarted', (e) => positions.push(e.position.type));
    const got = await consume(reader, (b) => recordCount(b) >= 20);
    expect(payloads(got).sort()).toEqual(
      spread('after', 20, 2)
        .map((r) => r.data)
        .sort(),
    );
    expect(positions).toEqual(['AT_TIMESTAMP', 'AT_TIMESTAMP']);
  });

  it('starts shards without a checkpoint at LATEST: only records written after the start', async () => {
    await kinesis.createStream('latest', 2);
    await kinesis.putRecords('latest', spread('old', 10, 2));
    const reader = new KinesisShardReader({
      client: kinesis.client(),
      stream: 'latest',
      checkpointStore: memoryStore('latest'),
      initialPosition: { type: 'LATEST' },
      ...fast,
    });
    // Once both shards have made a GetRecords call, their LATEST iterators exist.
    const polled = new Set<string>();
    reader.on('lag', (e) => {
      polled.add(e.shardId);
      if (polled.size === 2 && !putting) {
        putting = kinesis.putRecords('latest', spread('new', 10, 2));
      }
    });
    let putting: Promise<unknown> | undefined;
    const got = await consume(reader, (b) => recordCount(b) >= 10);
    await putting;
    expect(payloads(got).sort()).toEqual(
      spread('new', 10, 2)
        .map((r) => r.data)
        .sort(),
    );
  });

  it('reads a stream given by ARN, sending StreamARN', async () => {
    const { streamArn } = await kinesis.createStream('by-arn', 2);
    await kinesis.putRecords('by-arn', spread('arn', 10, 2));
    const reader = new KinesisShardReader({
      client: proxy.client(),
      stream: streamArn,
      checkpointStore: memoryStore('by-arn'),
      initialPosition: { type: 'TRIM_HORIZON' },
      ...fast,
    });
    const got = await consume(reader, (b) => recordCount(b) >= 10);
    expect(recordCount(got)).toBe(10);
  });

  it('refuses an ARN of another region than the client', async () => {
    const { streamArn } = await kinesis.createStream('other-region', 1);
    const reader = new KinesisShardReader({
      client: kinesis.client({ region: 'eu-west-1' }),
      stream: streamArn,
      checkpointStore: memoryStore('other-region'),
      initialPosition: { type: 'TRIM_HORIZON' },
      ...fast,
    });
    await expect(consume(reader, () => true)).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('fails with StreamNotFoundError for a stream that does not exist', async () => {
    const reader = new KinesisShardReader({
      client: kinesis.client(),
      stream: 'no-such-stream',
      checkpointStore: memoryStore('no-such-stream'),
      initialPosition: { type: 'TRIM_HORIZON' },
      ...fast,
    });
    await expect(consume(reader, () => true)).rejects.toBeInstanceOf(StreamNotFoundError);
  });
});
