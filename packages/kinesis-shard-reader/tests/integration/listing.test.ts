import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  KinesisShardReader,
  ReadFailedError,
  type ShardBatch,
} from '@connect-wfm/kinesis-shard-reader';
import {
  type KinesaliteServer,
  type KinesisFaultProxy,
  startKinesalite,
  startKinesisFaultProxy,
} from '@connect-wfm/testkit';
import { consume, fast, memoryStore, payloads, recordCount, spread } from './helpers.js';

/** Rejects after `ms` so a hang fails the test instead of blocking it. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The records `splitWithChildRecords` writes, one per child shard. */
const CHILD_RECORDS = ['child-left', 'child-right'];

describe('KinesisShardReader shard listing', () => {
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

  async function setup(shards: number, count: number) {
    n += 1;
    const name = `listing-${n}`;
    await kinesis.createStream(name, shards);
    const records = spread(name, count, shards);
    await kinesis.putRecords(name, records);
    // ListShards answers are changed per test, so each test has a proxy of its own
    const faults = await startKinesisFaultProxy({
      target: kinesis.endpoint,
      childShards: 'present',
    });
    proxies.push(faults);
    return {
      name,
      proxy: faults.listShards,
      all: records.map((r) => r.data as string),
      client: kinesis.client({ endpoint: faults.endpoint }),
    };
  }

  /** A reader from TRIM_HORIZON, stepped one batch at a time by `next()`; stops itself after 8 s. */
  function stepped(client: KinesisClient, name: string) {
    const reader = new KinesisShardReader({
      client,
      stream: name,
      checkpointStore: memoryStore(name),
      initialPosition: { type: 'TRIM_HORIZON' },
      maxRecords: 100,
      ...fast,
    });
    const stopTimer = setTimeout(() => void reader.stop(), 8_000);
    const it = reader[Symbol.asyncIterator]();
    const seen: ShardBatch[] = [];
    const next = async (): Promise<ShardBatch> => {
      const r = await it.next();
      if (r.done) throw new Error('the reader ended early');
      seen.push(r.value);
      return r.value;
    };
    return {
      reader,
      seen,
      next,
      /** Checkpoints batch after batch until both children's records were read. */
      readChildren: async (): Promise<void> => {
        while (!CHILD_RECORDS.every((p) => payloads(seen).includes(p))) {
          await (await next()).checkpoint();
        }
      },
      close: async (): Promise<void> => {
        clearTimeout(stopTimer);
        await it.return?.();
      },
    };
  }

  /** Splits shard 0 and writes one record to each child; returns the children's ids. */
  async function splitWithChildRecords(name: string): Promise<[string, string]> {
    const children = await kinesis.splitShard(name, 'shardId-000000000000');
    await kinesis.putRecords(name, [
      { data: 'child-left', partitionKey: 'l', explicitHashKey: '1' },
      { data: 'child-right', partitionKey: 'r', explicitHashKey: (2n ** 127n + 5n).toString() },
    ]);
    return children;
  }

  it('does not drop child shards because of a listing that started before they were known', async () => {
    const { name, proxy, client } = await setup(1, 5);
    const step = stepped(client, name);
    const { reader, seen, next } = step;
    try {
      await (await next()).checkpoint();
      // a periodic listing is taken now (one shard) and answered only after the split
      const held = proxy.hold();
      await within(3_000, 'periodic ListShards', held.received);
      const [left, right] = await splitWithChildRecords(name);
      let final = await next();
      while (!final.shardEnded) {
        await final.checkpoint();
        final = await next();
      }
      expect([...final.childShardIds].sort()).toEqual([left, right].sort());
      // the stale answer (without the children) arrives while they wait for their parent
      const before = reader.metrics().discoveries;
      held.release();
      const deadline = Date.now() + 3_000;
      while (reader.metrics().discoveries <= before) {
        if (Date.now() > deadline) throw new Error('the held listing was never processed');
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(reader.metrics().shards[left]?.status).toBe('pending');
      expect(reader.metrics().shards[right]?.status).toBe('pending');
      await final.checkpoint();
      await step.readChildren();
    } finally {
      await step.close();
    }
    expect(payloads(seen)).toEqual(expect.arrayContaining(CHILD_RECORDS));
  }, 15_000);

  it('reads a pending shard again when a later listing shows it after one that missed it', async () => {
    const { name, proxy, client } = await setup(1, 3);
    const [left, right] = await splitWithChildRecords(name);
    const step = stepped(client, name);
    const { reader, seen, next } = step;
    const waitFor = async (what: string, ok: () => boolean): Promise<void> => {
      const deadline = Date.now() + 3_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`${what} did not happen within 3 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      let final = await next();
      while (!final.shardEnded) {
        await final.checkpoint();
        final = await next();
      }
      // while the children wait for their parent, one listing misses the left child
      await within(3_000, 'listing without the left child', proxy.omit(left));
      await waitFor('marking it gone', () => reader.metrics().shards[left]?.status === 'gone');
      await waitFor('reviving it', () => reader.metrics().shards[left]?.status === 'pending');
      await final.checkpoint();
      await step.readChildren();
    } finally {
      await step.close();
    }
    expect(reader.metrics().shards[right]?.status).toBe('reading');
    expect(payloads(seen)).toEqual(expect.arrayContaining(CHILD_RECORDS));
  }, 15_000);

  it('restarts the listing without the token after ExpiredNextTokenException', async () => {
    const { name, proxy, client, all } = await setup(2, 10);
    proxy.paginate(1);
    const reader = new KinesisShardReader({
      client,
      stream: name,
      checkpointStore: memoryStore(name),
      initialPosition: { type: 'TRIM_HORIZON' },
      ...fast,
      shardDiscoveryIntervalMs: 60_000,
    });
    const got = await consume(reader, (b) => recordCount(b) >= 10, { timeoutMs: 5_000 });
    expect(payloads(got).sort()).toEqual([...all].sort());
    // first page, expired token, then a fresh listing from the start, then its second page
    expect(proxy.requests.slice(0, 4)).toEqual([
      { token: false, expired: false },
      { token: true, expired: true },
      { token: false, expired: false },
      { token: true, expired: false },
    ]);
  });

  it('fails with ReadFailedError when the NextToken keeps expiring, after a bounded number of restarts', async () => {
    const { name, proxy, client } = await setup(2, 2);
    proxy.paginate(Number.POSITIVE_INFINITY);
    const reader = new KinesisShardReader({
      client,
      stream: name,
      checkpointStore: memoryStore(name),
      initialPosition: { type: 'TRIM_HORIZON' },
      ...fast,
    });
    const failure = await within(
      5_000,
      'reader',
      (async () => {
        try {
          for await (const batch of reader) await batch.checkpoint();
          return undefined;
        } catch (err) {
          return err;
        }
      })(),
    ).finally(() => reader.stop());
    expect(failure).toBeInstanceOf(ReadFailedError);
    expect(failure).toMatchObject({ operation: 'ListShards' });
    expect(String((failure as Error).message)).toContain('ExpiredNextTokenException');
    expect(proxy.requests.filter((l) => l.expired)).toHaveLength(4);
  });
});
