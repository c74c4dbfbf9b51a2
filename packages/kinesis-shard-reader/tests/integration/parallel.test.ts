import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  compareSequenceNumbers,
  KinesisShardReader,
  type ShardBatch,
} from '@connect-wfm/kinesis-shard-reader';
import { type KinesaliteServer, startKinesalite } from '@connect-wfm/testkit';
import {
  consume,
  fast,
  memoryStore,
  payloads,
  recordCount,
  recordGetRecordsLimits,
  spread,
  testReader,
} from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const readAll = join(here, '../fixtures/read-all.ts');

describe('KinesisShardReader on 4 shards', () => {
  let kinesis: KinesaliteServer;

  beforeAll(async () => {
    kinesis = await startKinesalite();
  });

  afterAll(async () => {
    await kinesis.stop();
  });

  it('reads every shard in parallel, each record once and in shard order', async () => {
    const { shardIds } = await kinesis.createStream('four', 4);
    await kinesis.putRecords('four', spread('r', 400, 4));
    const store = memoryStore('four');
    const reader = new KinesisShardReader({
      client: kinesis.client(),
      stream: 'four',
      checkpointStore: store,
      initialPosition: { type: 'TRIM_HORIZON' },
      maxRecords: 40,
      ...fast,
    });
    let recordsWhenCaughtUp = -1;
    const batches: ShardBatch[] = [];
    reader.on('caughtUp', () => {
      recordsWhenCaughtUp = recordCount(batches);
    });

    const got = await consume(reader, (b) => recordCount(b) >= 400, {
      onBatch: (b) => void batches.push(b),
    });

    expect(payloads(got).sort()).toEqual(Array.from({ length: 400 }, (_, i) => `r-${i}`).sort());
    // Parallel: the first four batches come from four different shards.
    expect(new Set(got.slice(0, 4).map((b) => b.shardId))).toEqual(new Set(shardIds));
    for (const shardId of shardIds) {
      const seqs = got.filter((b) => b.shardId === shardId).flatMap((b) => b.records);
      expect(seqs).toHaveLength(100);
      for (let i = 1; i < seqs.length; i++) {
        expect(
          compareSequenceNumbers(seqs[i - 1]?.sequenceNumber ?? '', seqs[i]?.sequenceNumber ?? ''),
        ).toBeLessThan(0);
      }
      const cp = await store.get(shardId);
      expect(cp?.sequenceNumber).toBe(seqs.at(-1)?.sequenceNumber);
    }
    expect(got.every((b) => b.records.length <= 40)).toBe(true);
    // The tip signal comes only after every record written before was handed out.
    expect(recordsWhenCaughtUp).toBe(400);
    const m = reader.metrics();
    expect(m.recordsRead).toBe(400);
    expect(m.shardStarts).toBe(4);
    expect(m.caughtUp).toBe(true);
    expect(m.checkpointsWritten).toBe(got.length);
  });

  it('with maxRecordsInFlight, asks each shard for its share and still reads all before caughtUp', async () => {
    await kinesis.createStream('budget', 4);
    await kinesis.putRecords('budget', spread('b', 380, 4));
    const client = kinesis.client();
    const limits = recordGetRecordsLimits(client);
    const reader = testReader(client, 'budget', { maxRecords: 1000, maxRecordsInFlight: 40 });
    let recordsWhenCaughtUp = -1;
    const batches: ShardBatch[] = [];
    reader.on('caughtUp', () => {
      recordsWhenCaughtUp = recordCount(batches);
    });

    const got = await consume(reader, (b) => recordCount(b) >= 380, {
      onBatch: (b) => void batches.push(b),
    });

    expect(payloads(got).sort()).toEqual(Array.from({ length: 380 }, (_, i) => `b-${i}`).sort());
    // Four shard loops share 40 records: every call asks for 10, every batch holds at most 10.
    expect(limits.length).toBeGreaterThanOrEqual(40);
    expect(new Set(limits)).toEqual(new Set([10]));
    expect(Math.max(...got.map((b) => b.records.length))).toBe(10);
    // 95 records a shard: nine full batches of the share are not the tip; the tenth (5) is.
    // caughtUp comes only once every record was handed out.
    expect(recordsWhenCaughtUp).toBe(380);
  });

  it('reads 12 shards without a MaxListenersExceededWarning (one stop listener per waiting shard)', async () => {
    await kinesis.createStream('twelve', 12);
    await kinesis.putRecords('twelve', spread('t', 120, 12));
    // In a process of its own: Jest's sandbox does not receive Node's process warnings. Not
    // spawnSync: kinesalite runs in this process and must go on answering.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', readAll, kinesis.endpoint, 'twelve', '120'],
      {
        env: {
          ...process.env,
          AWS_REGION: kinesis.region,
          AWS_ACCESS_KEY_ID: kinesis.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: kinesis.credentials.secretAccessKey,
          TSX_TSCONFIG_PATH: join(here, '../../../../tsconfig.json'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(killer);
    expect(code).toBe(0);
    const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    expect(out.records).toBe(120);
    expect(out.warnings).not.toContain('MaxListenersExceededWarning');
    expect(stderr).not.toContain('MaxListenersExceededWarning');
  }, 90_000);
});
