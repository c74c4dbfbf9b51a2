import { inspect } from 'node:util';
import {
  type IteratorRefreshedEvent,
  KinesisShardReader,
  ReadFailedError,
  type RetryingEvent,
  type ThrottledEvent,
} from '@connect-wfm/kinesis-shard-reader';
import {
  type KinesaliteServer,
  type KinesisFaultProxy,
  startKinesalite,
  startKinesisFaultProxy,
} from '@connect-wfm/testkit';
import {
  consume,
  fast,
  memoryStore,
  payloads,
  recordCount,
  spread,
  testReader,
} from './helpers.js';

describe('KinesisShardReader under injected faults', () => {
  let kinesis: KinesaliteServer;
  let proxy: KinesisFaultProxy;
  let n = 0;

  beforeAll(async () => {
    kinesis = await startKinesalite();
    proxy = await startKinesisFaultProxy({ target: kinesis.endpoint });
  });

  afterEach(() => {
    proxy.clearFaults();
  });

  afterAll(async () => {
    await proxy.stop();
    await kinesis.stop();
  });

  /** A fresh stream with `count` records over `shards` shards. */
  async function stream(count: number, shards: number): Promise<{ name: string; all: string[] }> {
    n += 1;
    const name = `faults-${n}`;
    await kinesis.createStream(name, shards);
    const records = spread(name, count, shards);
    await kinesis.putRecords(name, records);
    return { name, all: records.map((r) => r.data as string) };
  }

  it('backs off on throttling and still reads every record once', async () => {
    const { name, all } = await stream(60, 2);
    const before = proxy.stats().injected.throttle ?? 0;
    proxy.inject({ kind: 'throttle', shardId: 'shardId-000000000001', times: 4 });
    const reader = testReader(proxy.client(), name, {
      getRecordsMaxAttempts: 1,
    });
    const delays: number[] = [];
    reader.on('throttled', (e) => delays.push(e.delayMs));

    const got = await consume(reader, (b) => recordCount(b) >= 60);

    expect(payloads(got).sort()).toEqual([...all].sort());
    expect((proxy.stats().injected.throttle ?? 0) - before).toBe(4);
    expect(reader.metrics().throttles).toBe(4);
    expect(reader.metrics().shards['shardId-000000000001']?.throttles).toBe(4);
    // Backoff grows (with jitter) from baseMs 10 towards maxMs 50.
    expect(delays).toHaveLength(4);
    expect(delays.every((d) => d >= 5 && d <= 50)).toBe(true);
    expect(delays[3] ?? 0).toBeGreaterThanOrEqual(25);
  });

  it('caps the SDK retries of GetRecords whatever the client maxAttempts is', async () => {
    const { name } = await stream(10, 1);
    const before = proxy.stats().injected.throttle ?? 0;
    proxy.inject({ kind: 'throttle', times: 3 });
    const reader = testReader(proxy.client({ maxAttempts: 5 }), name, {
      getRecordsMaxAttempts: 2,
    });
    const got = await consume(reader, (b) => recordCount(b) >= 10);
    expect(recordCount(got)).toBe(10);
    // Call 1: two attempts, both throttled -> one throttle seen by the reader. Call 2: one
    // throttled attempt retried by the SDK, then success. Uncapped, the SDK would hide all three.
    expect(reader.metrics().throttles).toBe(1);
    expect((proxy.stats().injected.throttle ?? 0) - before).toBe(3);
  });

  it('gets a new iterator after the last sequence number read when the iterator expired', async () => {
    const { name, all } = await stream(40, 1);
    const reader = testReader(proxy.client(), name, {
      maxRecords: 10,
    });
    const refreshed: IteratorRefreshedEvent[] = [];
    reader.on('iteratorRefreshed', (e) => refreshed.push(e));
    let lastSeq: string | null = null;

    const got = await consume(reader, (b) => recordCount(b) >= 40, {
      onBatch: (b) => {
        if (b.records[0]?.data && refreshed.length === 0 && lastSeq === null) {
          lastSeq = b.lastSequenceNumber;
          proxy.inject({ kind: 'expiredIterator', times: 2 });
        }
      },
    });

    expect(payloads(got)).toEqual(all);
    expect(refreshed).toHaveLength(2);
    expect(refreshed[0]?.position).toEqual({
      type: 'AFTER_SEQUENCE_NUMBER',
      sequenceNumber: lastSeq,
    });
    expect(reader.metrics().iteratorRefreshes).toBe(2);
  });

  it('retries dropped connections and requests that hang past requestTimeoutMs', async () => {
    const { name, all } = await stream(20, 1);
    proxy.inject({ kind: 'dropConnection', times: 2 });
    // The delayed request always outlasts the timeout; 500 ms leaves the others room on a busy machine.
    proxy.inject({ kind: 'delay', ms: 2_000 });
    const reader = testReader(proxy.client(), name, {
      getRecordsMaxAttempts: 1,
      requestTimeoutMs: 500,
    });
    const retries: RetryingEvent[] = [];
    reader.on('retrying', (e) => retries.push(e));

    const got = await consume(reader, (b) => recordCount(b) >= 20);

    expect(payloads(got)).toEqual(all);
    expect(retries.map((r) => r.operation)).toEqual(['GetRecords', 'GetRecords', 'GetRecords']);
    expect(reader.metrics().transientErrors).toBe(3);
  });

  it('reports a checkpoint older than retention loudly and restarts the shard at TRIM_HORIZON', async () => {
    const { name } = await stream(10, 1);
    const shardId = 'shardId-000000000000';
    const seqs = (await kinesis.putRecords(name, spread('late', 5, 1))).map(
      (p) => p.sequenceNumber,
    );
    const store = memoryStore(name);
    const stale = seqs[0] ?? '';
    await store.put(shardId, { sequenceNumber: stale });
    // Retention trimmed everything before the third of the late records.
    proxy.trim(name, shardId, seqs[2] ?? '');
    const errors: string[] = [];
    const reader = new KinesisShardReader({
      client: proxy.client(),
      stream: name,
      checkpointStore: store,
      // A shard with a rejected checkpoint must not fall back to this.
      initialPosition: { type: 'LATEST' },
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (m) => errors.push(m),
      },
      ...fast,
    });
    const expired: Array<{ shardId: string; sequenceNumber: string; code: string }> = [];
    reader.on('checkpointExpired', (e) =>
      expired.push({ shardId: e.shardId, sequenceNumber: e.sequenceNumber, code: e.error.code }),
    );

    const got = await consume(reader, (b) => recordCount(b) >= 3);

    expect(expired).toEqual([{ shardId, sequenceNumber: stale, code: 'CHECKPOINT_EXPIRED' }]);
    expect(errors.some((m) => m.includes(stale) && m.includes('LOST'))).toBe(true);
    expect(payloads(got)).toEqual(['late-2', 'late-3', 'late-4']);
    expect(proxy.stats().injected.trimmedSequenceNumber).toBe(1);
    expect((await store.get(shardId))?.sequenceNumber).toBe(seqs[4]);
    expect(reader.metrics().checkpointsExpired).toBe(1);
  });

  it('reports a checkpointed shard that expired before it was finished', async () => {
    const { name } = await stream(5, 1);
    const store = memoryStore(name);
    await store.put('shardId-000000000099', { sequenceNumber: '12345' });
    const reader = new KinesisShardReader({
      client: kinesis.client(),
      stream: name,
      checkpointStore: store,
      initialPosition: { type: 'TRIM_HORIZON' },
      ...fast,
    });
    const expired: string[] = [];
    reader.on('checkpointExpired', (e) => expired.push(e.shardId));
    const got = await consume(reader, (b) => recordCount(b) >= 5);
    expect(recordCount(got)).toBe(5);
    expect(expired).toEqual(['shardId-000000000099']);
  });

  it('treats a shard that vanished while being read as expired and keeps reading the others', async () => {
    const { name, all } = await stream(20, 2);
    proxy.inject({
      kind: 'error',
      type: 'ResourceNotFoundException',
      message: 'Shard shardId-000000000001 does not exist',
      shardId: 'shardId-000000000001',
    });
    // Shard 0 answers later, so the loop below ends after shard 1 has failed.
    proxy.inject({ kind: 'delay', ms: 300, shardId: 'shardId-000000000000' });
    const reader = testReader(proxy.client(), name);
    const got = await consume(reader, (b) => recordCount(b) >= 10, { timeoutMs: 3_000 });
    expect(payloads(got)).toEqual(all.filter((_, i) => i % 2 === 0));
    expect(reader.metrics().shards['shardId-000000000001']?.status).toBe('gone');
  });

  it('fails with a clear error, and stops, on an error retrying cannot fix', async () => {
    const { name } = await stream(5, 1);
    proxy.inject({ kind: 'error', type: 'AccessDeniedException', message: 'not allowed' });
    const reader = testReader(proxy.client(), name);
    await expect(consume(reader, () => false)).rejects.toMatchObject({
      code: 'READ_FAILED',
      operation: 'GetRecords',
      shardId: 'shardId-000000000000',
    });
  });

  it('waits at least 200 ms before retrying a throttled GetShardIterator or ListShards', async () => {
    const { name, all } = await stream(6, 1);
    proxy.inject({ kind: 'throttle', operation: 'ListShards', times: 1 });
    proxy.inject({ kind: 'throttle', operation: 'GetShardIterator', times: 2 });
    const reader = testReader(proxy.client({ maxAttempts: 1 }), name, {
      throttleBackoff: { baseMs: 200, maxMs: 5_000 },
    });
    const throttled: Array<ThrottledEvent & { at: number }> = [];
    reader.on('throttled', (e) => throttled.push({ ...e, at: Date.now() }));
    let firstBatchAt = 0;
    const got = await consume(reader, (b) => recordCount(b) >= 6, {
      onBatch: () => {
        firstBatchAt ||= Date.now();
      },
    });
    expect(payloads(got).sort()).toEqual([...all].sort());
    expect(throttled.map((e) => [e.operation, e.consecutive])).toEqual([
      ['ListShards', 1],
      ['GetShardIterator', 1],
      ['GetShardIterator', 2],
    ]);
    for (const e of throttled) {
      expect(e.delayMs).toBeGreaterThanOrEqual(200);
      expect(e.delayMs).toBeLessThanOrEqual(5_000);
    }
    // the second GetShardIterator throttle waits longer than the first (exponential)
    expect(throttled[2]?.delayMs ?? 0).toBeGreaterThanOrEqual(400);
    // the waits really happened: the first batch came after the last backoff
    const last = throttled[2];
    expect(firstBatchAt - (last?.at ?? 0)).toBeGreaterThanOrEqual((last?.delayMs ?? 0) - 5);
  });

  it('keeps credentials and the raw SDK response out of ReadFailedError', async () => {
    const { name } = await stream(3, 1);
    const secrets = ['AKIAREADERSECRETKEYID', 'readerSecretAccessKey/xyz', 'readerSessionTokenABC'];
    proxy.inject({
      kind: 'error',
      type: 'AccessDeniedException',
      message: 'User: arn:aws:sts::1:assumed-role/x is not authorized',
    });
    const logs: string[] = [];
    const log = (level: string) => (message: string, context?: Record<string, unknown>) => {
      logs.push(`${level} ${message} ${inspect(context, { depth: 10, showHidden: true })}`);
    };
    const reader = new KinesisShardReader({
      client: proxy.client({
        credentials: {
          accessKeyId: secrets[0] as string,
          secretAccessKey: secrets[1] as string,
          sessionToken: secrets[2] as string,
        },
      }),
      stream: name,
      checkpointStore: memoryStore(name),
      initialPosition: { type: 'TRIM_HORIZON' },
      logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      ...fast,
    });
    const err = await consume(reader, () => false).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReadFailedError);
    const cause = (err as ReadFailedError).cause as { name?: string; $metadata?: unknown };
    expect(cause.name).toBe('AccessDeniedException');
    expect(cause.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(Object.getOwnPropertyNames(cause)).not.toContain('$response');
    const text = [
      inspect(err, { showHidden: true, depth: 20 }),
      inspect(err, { depth: null }),
      JSON.stringify(err),
      String((err as Error).message),
      ...logs,
    ].join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
