/**
 * Catch-up benchmark: a kinesalite stream with 4 shards and RECORDS (default 200,000) records of
 * ~2 KB (agent-event size). Measures the reader (file-store checkpoint after every batch) against
 * a raw GetRecords loop per shard with the same client, in the same run.
 *
 *   npm run bench -- shard-reader
 *   RECORDS=50000 ROUNDS=2 npm run bench -- shard-reader   (defaults: 200000 records, 4 rounds)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { FileCheckpointStore } from '@connect-wfm/checkpoint-store';
import { KinesisShardReader } from '@connect-wfm/kinesis-shard-reader';
import {
  peakRssMb,
  printBench,
  printTable,
  rssMb,
  seededRandom,
  startKinesalite,
  timed,
} from '@connect-wfm/testkit';

const RECORDS = Number(process.env.RECORDS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const SHARDS = 4;
const STREAM = 'bench-agent-events';

const STATES = ['Available', 'Offline', 'Busy', 'AfterContactWork', 'Lunch', 'Training'];

/** A ~2 KB agent event, like the Amazon Connect agent event stream writes. */
function agentEvent(rand: () => number, i: number): string {
  const agent = `agent-${Math.floor(rand() * 2000)}`;
  const pad = 'x'.repeat(1200 + Math.floor(rand() * 100));
  return JSON.stringify({
    AWSAccountId: '123456789012',
    AgentARN: `arn:aws:connect:eu-west-1:123456789012:instance/0000/agent/${agent}`,
    EventId: `e-${i}-${Math.floor(rand() * 1e9)}`,
    EventType: 'STATE_CHANGE',
    EventTimestamp: new Date(1_700_000_000_000 + i * 10).toISOString(),
    CurrentAgentSnapshot: {
      AgentStatus: { Name: STATES[i % STATES.length], Type: 'ROUTABLE' },
      Configuration: { Username: agent, FirstName: 'Ann', LastName: 'Example', Padding: pad },
    },
  });
}

async function rawRead(
  client: KinesisClient,
  shardIds: readonly string[],
  perShard: Map<string, number>,
) {
  let records = 0;
  let bytes = 0;
  await Promise.all(
    shardIds.map(async (shardId) => {
      const want = perShard.get(shardId) ?? 0;
      let got = 0;
      let iterator = (
        await client.send(
          new GetShardIteratorCommand({
            StreamName: STREAM,
            ShardId: shardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      while (got < want && iterator !== undefined) {
        const out = await client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
        );
        for (const r of out.Records ?? []) bytes += r.Data?.byteLength ?? 0;
        got += out.Records?.length ?? 0;
        iterator = out.NextShardIterator;
      }
      records += got;
    }),
  );
  return { records, bytes };
}

async function readerRead(client: KinesisClient, dir: string, round: number) {
  const store = new FileCheckpointStore({
    application: `bench-${round}`,
    stream: STREAM,
    path: join(dir, `checkpoints-${round}.json`),
  });
  const reader = new KinesisShardReader({
    client,
    stream: STREAM,
    checkpointStore: store,
    initialPosition: { type: 'TRIM_HORIZON' },
  });
  let records = 0;
  let bytes = 0;
  let batches = 0;
  for await (const batch of reader) {
    for (const r of batch.records) bytes += r.data.byteLength;
    records += batch.records.length;
    batches += 1;
    await batch.checkpoint();
    if (records >= RECORDS) break;
  }
  await store.close();
  return { records, bytes, batches };
}

// kinesalite runs in its own process: the reader's CPU and peak RSS are then its own, and the
// server gets the other core, as a real Kinesis endpoint would be.
const kinesis = await startKinesalite({ childProcess: true });
const dir = mkdtempSync(join(tmpdir(), 'shard-reader-bench-'));
try {
  const { shardIds } = await kinesis.createStream(STREAM, SHARDS);
  const rand = seededRandom(42);
  const setup = await timed(async () => {
    const perShard = new Map<string, number>();
    const chunk = 20_000;
    for (let i = 0; i < RECORDS; i += chunk) {
      const records = Array.from({ length: Math.min(chunk, RECORDS - i) }, (_, j) => {
        const data = agentEvent(rand, i + j);
        return { data, partitionKey: `agent-${(i + j) % 2000}` };
      });
      const put = await kinesis.putRecords(STREAM, records, { concurrency: 4 });
      for (const p of put) perShard.set(p.shardId, (perShard.get(p.shardId) ?? 0) + 1);
    }
    return perShard;
  });
  const perShard = setup.result;
  process.stdout.write(
    `setup: ${RECORDS} records into ${SHARDS} shards in ${(setup.ms / 1000).toFixed(1)} s (rss ${rssMb()} MB; per shard ${[...perShard.values()].join('/')})\n`,
  );

  const client = kinesis.client();
  const rows: Array<Record<string, number | string>> = [];
  const rawRates: number[] = [];
  const readerRates: number[] = [];
  let readerMbPerS = 0;
  const runRaw = async (round: number): Promise<void> => {
    const raw = await timed(() => rawRead(client, shardIds, perShard));
    const rate = raw.result.records / (raw.ms / 1000);
    rawRates.push(rate);
    rows.push({
      variant: 'raw GetRecords',
      round,
      records: raw.result.records,
      seconds: raw.ms / 1000,
      records_per_s: rate,
      mb_per_s: raw.result.bytes / 1e6 / (raw.ms / 1000),
    });
  };
  const runReader = async (round: number): Promise<void> => {
    const rd = await timed(() => readerRead(client, dir, round));
    const rate = rd.result.records / (rd.ms / 1000);
    readerRates.push(rate);
    readerMbPerS = Math.max(readerMbPerS, rd.result.bytes / 1e6 / (rd.ms / 1000));
    rows.push({
      variant: 'reader + file checkpoint',
      round,
      records: rd.result.records,
      seconds: rd.ms / 1000,
      records_per_s: rate,
      mb_per_s: rd.result.bytes / 1e6 / (rd.ms / 1000),
      batches: rd.result.batches,
    });
  };
  // Alternate the order so that neither variant always runs on a colder process.
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      await runRaw(round);
      await runReader(round);
    } else {
      await runReader(round);
      await runRaw(round);
    }
  }
  printTable(rows);
  const bestRaw = Math.max(...rawRates);
  const bestReader = Math.max(...readerRates);
  printBench('shard-reader-raw', {
    records_per_s: bestRaw,
    records: RECORDS,
    setup_s: setup.ms / 1000,
  });
  printBench('shard-reader', {
    records_per_s: bestReader,
    mb_per_s: readerMbPerS,
    ratio_vs_raw: bestReader / bestRaw,
    peak_rss_mb: peakRssMb(),
  });
} finally {
  await kinesis.stop();
  rmSync(dir, { recursive: true, force: true });
}
