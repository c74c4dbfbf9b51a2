/**
 * Kinesis for tests, benchmarks and the demo: kinesalite (an in-memory Kinesis Data Streams
 * implementation) on 127.0.0.1 with a port chosen at run time, plus helpers that create
 * streams, put records and reshard through the real AWS SDK v3 client.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  type KinesisClientConfig,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type Shard,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { closeServer, listenOnLoopback } from './ports.js';

/** Options of {@link startKinesalite}. */
export interface KinesaliteOptions {
  /** How long a new stream stays CREATING, in ms. @default 0 */
  readonly createStreamMs?: number;
  /** How long a deleted stream stays DELETING, in ms. @default 0 */
  readonly deleteStreamMs?: number;
  /** How long a stream stays UPDATING after a split or merge, in ms. @default 0 */
  readonly updateStreamMs?: number;
  /** Account-wide shard limit kinesalite enforces (closed shards count too). @default 200 */
  readonly shardLimit?: number;
  /**
   * Run kinesalite in a child Node process instead of this one, so that a benchmark measures
   * the reader alone (its CPU and peak RSS) and the server gets the other core, as a real
   * Kinesis endpoint would be. @default false
   */
  readonly childProcess?: boolean;
}

/** Static credentials accepted by the local peers (never real secrets). */
export interface LocalCredentials {
  /** A dummy access key id. */
  readonly accessKeyId: string;
  /** A dummy secret (not a secret: local peers only). */
  readonly secretAccessKey: string;
}

/** One record to put. */
export interface PutRecordInput {
  /** Payload (a string is encoded as UTF-8). */
  readonly data: Uint8Array | string;
  /** Partition key: decides the shard through its MD5 hash. */
  readonly partitionKey: string;
  /** Explicit 128-bit hash key (decimal) to target a shard regardless of the partition key. */
  readonly explicitHashKey?: string;
}

/** Where one put record landed. */
export interface PutRecordResult {
  /** The shard the record landed in. */
  readonly shardId: string;
  /** Its sequence number. */
  readonly sequenceNumber: string;
}

/** Options of {@link KinesaliteServer.putRecords}. */
export interface PutRecordsOptions {
  /**
   * PutRecords calls in flight at once. With more than one, records of the same partition key
   * in different 500-record batches may be stored out of order.
   * @default 1
   */
  readonly concurrency?: number;
  /** Records per PutRecords call (at most 500, the Kinesis limit). @default 500 */
  readonly batchSize?: number;
}

/** A created stream. */
export interface CreatedStream {
  /** The name given. */
  readonly streamName: string;
  /** Its ARN (`arn:aws:kinesis:us-east-1:000000000000:stream/<name>`). */
  readonly streamArn: string;
  /** Shard ids, in hash-key order. */
  readonly shardIds: readonly string[];
}

/** A running kinesalite. */
export interface KinesaliteServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Region to configure clients with. */
  readonly region: string;
  /** Credentials to configure clients with (kinesalite checks only that a signature exists). */
  readonly credentials: LocalCredentials;
  /**
   * A Kinesis client for this server: HTTP/1.1 handler (the SDK v3 Kinesis client would
   * otherwise try HTTP/2), endpoint, region and credentials set. Destroyed by `stop()`.
   */
  client(config?: Partial<KinesisClientConfig>): KinesisClient;
  /** Creates a stream and waits until it is ACTIVE. */
  createStream(name: string, shardCount: number): Promise<CreatedStream>;
  /** Every shard of a stream (open and closed), as ListShards returns them. */
  listShards(streamName: string): Promise<Shard[]>;
  /** Puts records in batches of up to 500; returns where each landed, in input order. */
  putRecords(
    streamName: string,
    records: ReadonlyArray<PutRecordInput>,
    options?: PutRecordsOptions,
  ): Promise<PutRecordResult[]>;
  /**
   * Splits a shard (by default in the middle of its hash range) and waits until the stream is
   * ACTIVE again. Returns the two child shard ids.
   */
  splitShard(
    streamName: string,
    shardId: string,
    newStartingHashKey?: string,
  ): Promise<[string, string]>;
  /** Merges two adjacent shards and waits until ACTIVE. Returns the child shard id. */
  mergeShards(streamName: string, shardId: string, adjacentShardId: string): Promise<string>;
  /** Waits until a stream is ACTIVE. */
  waitForActive(streamName: string, timeoutMs?: number): Promise<void>;
  /** Stops the server and destroys every client made by `client()`. */
  stop(): Promise<void>;
}

interface KinesaliteFactoryOptions {
  createStreamMs: number;
  deleteStreamMs: number;
  updateStreamMs: number;
  shardLimit: number;
}

type KinesaliteFactory = (options: KinesaliteFactoryOptions) => Server;

const require = createRequire(import.meta.url);

/**
 * Makes kinesalite answer GetShardIterator `AT_TIMESTAMP` like real Kinesis when the shard has
 * no record at or after the timestamp: kinesalite 3.3 never answers then (it waits for a first
 * match that never comes), so a reader hangs silently. Real Kinesis returns an iterator at the
 * tip of the shard (the next record written, or the end of a closed shard); this answers as a
 * `LATEST` iterator. Plain JavaScript run with a `require`, in this process and in the child
 * process of `childProcess: true`. Idempotent; when kinesalite was loaded before, its entry
 * module is dropped from the require cache so the next load picks up the patched action.
 */
const PATCH_AT_TIMESTAMP = `
  const actionPath = require.resolve('kinesalite/actions/getShardIterator.js');
  const original = require(actionPath);
  if (original.answersEmptyAtTimestamp !== true) {
    const db = require(require.resolve('kinesalite/db/index.js'));
    const patched = function getShardIterator(store, data, cb) {
      if (data.ShardIteratorType !== 'AT_TIMESTAMP' || data.Timestamp == null ||
          data.Timestamp * 1000 > Date.now()) return original(store, data, cb);
      let shardIx;
      try { shardIx = db.resolveShardId(data.ShardId).shardIx; } catch (e) { return original(store, data, cb); }
      store.getStream(data.StreamName, function (err) {
        if (err) return original(store, data, cb);
        let found = false;
        let done = false;
        const finish = function () {
          if (done) return;
          done = true;
          if (found) return original(store, data, cb);
          const tip = Object.assign({}, data, { ShardIteratorType: 'LATEST' });
          delete tip.Timestamp;
          original(store, tip, cb);
        };
        const items = store.getStreamDb(data.StreamName).createReadStream({
          gt: db.shardIxToHex(shardIx),
          lt: db.shardIxToHex(shardIx + 1),
        });
        items.on('data', function (item) {
          if (found || item.value.ApproximateArrivalTimestamp < data.Timestamp) return;
          found = true;
          if (typeof items.destroy === 'function') items.destroy();
          finish();
        });
        items.on('error', function () { finish(); });
        items.on('end', finish);
        items.on('close', finish);
      });
    };
    patched.answersEmptyAtTimestamp = true;
    require.cache[actionPath].exports = patched;
    delete require.cache[require.resolve('kinesalite')];
  }
`;

/** Loads kinesalite with {@link PATCH_AT_TIMESTAMP} applied. */
function loadKinesalite(): KinesaliteFactory {
  new Function('require', PATCH_AT_TIMESTAMP)(require);
  return require('kinesalite') as KinesaliteFactory;
}

const REGION = 'us-east-1';
const CREDENTIALS: LocalCredentials = { accessKeyId: 'local', secretAccessKey: 'local-secret' };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The middle of a shard's hash-key range, as SplitShard's `NewStartingHashKey`.
 *
 * @example
 * midpointHashKey('0', '340282366920938463463374607431768211455'); // '170141183460469231731687303715884105727'
 */
export function midpointHashKey(startingHashKey: string, endingHashKey: string): string {
  return ((BigInt(startingHashKey) + BigInt(endingHashKey)) / 2n).toString();
}

/**
 * Starts kinesalite in memory on 127.0.0.1 with a free port.
 *
 * Known gaps of kinesalite 3.3 (real Kinesis differs): GetRecords never returns `ChildShards`
 * and reports `MillisBehindLatest: 0` except at the end of a closed shard; ListShards ignores
 * `MaxResults`, `ShardFilter` and `StreamARN` (only `StreamName` works) and never paginates;
 * `StreamARN` is ignored by every operation; records are only dropped after 24 h
 * (no way to trim earlier); GetRecords has no 10 MB response cap and no read throttling.
 * GetShardIterator `AT_TIMESTAMP` on a shard with no record at or after the timestamp never
 * answers in kinesalite itself; this wrapper patches it to answer like real Kinesis, with an
 * iterator at the tip (see `PATCH_AT_TIMESTAMP`).
 *
 * @example
 * const kinesis = await startKinesalite();
 * const { shardIds } = await kinesis.createStream('agent-events', 4);
 * await kinesis.putRecords('agent-events', [{ data: '{"x":1}', partitionKey: 'agent-1' }]);
 * const client = kinesis.client();
 * // ...
 * await kinesis.stop();
 */
export async function startKinesalite(options: KinesaliteOptions = {}): Promise<KinesaliteServer> {
  const factoryOptions: KinesaliteFactoryOptions = {
    createStreamMs: options.createStreamMs ?? 0,
    deleteStreamMs: options.deleteStreamMs ?? 0,
    updateStreamMs: options.updateStreamMs ?? 0,
    shardLimit: options.shardLimit ?? 200,
  };
  const { port, close } = options.childProcess
    ? await listenInChild(factoryOptions)
    : await listenInProcess(factoryOptions);
  const endpoint = `http://127.0.0.1:${port}`;
  const clients = new Set<KinesisClient>();

  const client = (config: Partial<KinesisClientConfig> = {}): KinesisClient => {
    const c = new KinesisClient({
      endpoint,
      region: REGION,
      credentials: CREDENTIALS,
      requestHandler: new NodeHttpHandler(),
      ...config,
    });
    clients.add(c);
    return c;
  };
  const admin = client();

  const waitForActive = async (streamName: string, timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = await admin.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
      if (Date.now() > deadline) {
        throw new Error(`stream ${streamName} did not become ACTIVE within ${timeoutMs} ms`);
      }
      await sleep(10);
    }
  };

  const listShards = async (streamName: string): Promise<Shard[]> => {
    const out = await admin.send(new ListShardsCommand({ StreamName: streamName }));
    return out.Shards ?? [];
  };

  const putBatch = async (
    streamName: string,
    entries: PutRecordsRequestEntry[],
  ): Promise<PutRecordResult[]> => {
    const results: Array<PutRecordResult | undefined> = new Array(entries.length);
    let pending = entries.map((entry, index) => ({ entry, index }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 10) {
        throw new Error(`PutRecords to ${streamName} kept failing for ${pending.length} records`);
      }
      const out = await admin.send(
        new PutRecordsCommand({ StreamName: streamName, Records: pending.map((p) => p.entry) }),
      );
      const failed: typeof pending = [];
      (out.Records ?? []).forEach((r, i) => {
        const p = pending[i];
        if (p === undefined) return;
        if (r.SequenceNumber !== undefined && r.ShardId !== undefined) {
          results[p.index] = { shardId: r.ShardId, sequenceNumber: r.SequenceNumber };
        } else {
          failed.push(p);
        }
      });
      pending = failed;
      if (pending.length > 0) await sleep(20 * (attempt + 1));
    }
    return results as PutRecordResult[];
  };

  return {
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    client,
    waitForActive,
    listShards,

    async createStream(name, shardCount) {
      await admin.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
      await waitForActive(name);
      const summary = await admin.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      const shards = await listShards(name);
      return {
        streamName: name,
        streamArn: summary.StreamDescriptionSummary?.StreamARN ?? '',
        shardIds: shards.map((s) => s.ShardId ?? ''),
      };
    },

    async putRecords(streamName, records, putOptions = {}) {
      const batchSize = Math.min(500, Math.max(1, putOptions.batchSize ?? 500));
      const concurrency = Math.max(1, putOptions.concurrency ?? 1);
      const batches: PutRecordsRequestEntry[][] = [];
      for (let i = 0; i < records.length; i += batchSize) {
        batches.push(
          records.slice(i, i + batchSize).map((r) => ({
            Data: typeof r.data === 'string' ? Buffer.from(r.data, 'utf8') : r.data,
            PartitionKey: r.partitionKey,
            ...(r.explicitHashKey === undefined ? {} : { ExplicitHashKey: r.explicitHashKey }),
          })),
        );
      }
      const out: PutRecordResult[][] = new Array(batches.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < batches.length) {
          const index = next++;
          const batch = batches[index];
          if (batch !== undefined) out[index] = await putBatch(streamName, batch);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
      return out.flat();
    },

    async splitShard(streamName, shardId, newStartingHashKey) {
      const before = await listShards(streamName);
      const shard = before.find((s) => s.ShardId === shardId);
      if (shard?.HashKeyRange?.StartingHashKey === undefined) {
        throw new Error(`shard ${shardId} not found in stream ${streamName}`);
      }
      const hashKey =
        newStartingHashKey ??
        midpointHashKey(
          shard.HashKeyRange.StartingHashKey,
          shard.HashKeyRange.EndingHashKey ?? '0',
        );
      await admin.send(
        new SplitShardCommand({
          StreamName: streamName,
          ShardToSplit: shardId,
          NewStartingHashKey: hashKey,
        }),
      );
      await waitForActive(streamName);
      const children = (await listShards(streamName))
        .filter((s) => s.ParentShardId === shardId && s.AdjacentParentShardId === undefined)
        .map((s) => s.ShardId ?? '');
      if (children.length !== 2 || children[0] === undefined || children[1] === undefined) {
        throw new Error(`split of ${shardId} produced ${children.length} children`);
      }
      return [children[0], children[1]];
    },

    async mergeShards(streamName, shardId, adjacentShardId) {
      await admin.send(
        new MergeShardsCommand({
          StreamName: streamName,
          ShardToMerge: shardId,
          AdjacentShardToMerge: adjacentShardId,
        }),
      );
      await waitForActive(streamName);
      const child = (await listShards(streamName)).find(
        (s) => s.ParentShardId === shardId && s.AdjacentParentShardId === adjacentShardId,
      );
      if (child?.ShardId === undefined) {
        throw new Error(`merge of ${shardId} and ${adjacentShardId} produced no child shard`);
      }
      return child.ShardId;
    },

    async stop() {
      for (const c of clients) c.destroy();
      clients.clear();
      await close();
    },
  };
}

interface Listening {
  port: number;
  close(): Promise<void>;
}

async function listenInProcess(options: KinesaliteFactoryOptions): Promise<Listening> {
  const kinesalite = loadKinesalite();
  const server = kinesalite(options);
  const port = await listenOnLoopback(server);
  return {
    port,
    close: () => closeServer(server),
  };
}

async function listenInChild(options: KinesaliteFactoryOptions): Promise<Listening> {
  // The child prints its port once listening and exits when its stdin closes (so it never
  // outlives this process, even after a crash).
  const script = `
    const load = (function (require) {
      ${PATCH_AT_TIMESTAMP}
      return require('kinesalite');
    })(require('node:module').createRequire(${JSON.stringify(require.resolve('kinesalite'))}));
    const server = load(${JSON.stringify(options)});
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onExit = (code: number | null) =>
      reject(new Error(`kinesalite child process exited (code ${code}) before listening`));
    child.once('exit', onExit);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined) {
        child.off('exit', onExit);
        resolve(Number(line));
      }
    });
  });
  return {
    port,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
