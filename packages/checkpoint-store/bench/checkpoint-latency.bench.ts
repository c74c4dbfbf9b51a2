/**
 * Checkpoint write latency of each backend: 1,000 single-shard writes round-robin over 4
 * shards (what a reader does: one checkpoint per processed batch), then 250 `putMany` of all
 * 4 shards, each while holding the leader lease (fenced writes, the production path). Memory
 * is the baseline measured in the same run.
 *
 *   npm run bench -- checkpoint-latency
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CheckpointStore,
  FileCheckpointStore,
  MemoryCheckpointStore,
} from '@connect-wfm/checkpoint-store';
import { DynamoDbCheckpointStore } from '@connect-wfm/checkpoint-store/dynamodb';
import { PostgresCheckpointStore } from '@connect-wfm/checkpoint-store/postgres';
import {
  peakRssMb,
  printBench,
  printTable,
  startDynalite,
  startPostgres,
} from '@connect-wfm/testkit';

const WRITES = 1_000;
const WARMUP = 50;
const BATCHES = 250;
const SHARDS = [
  'shardId-000000000000',
  'shardId-000000000001',
  'shardId-000000000002',
  'shardId-000000000003',
];
const BASE = 49590338271490256608559692538361571095921575989136588898n;

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

interface Result {
  backend: string;
  p50_ms: number;
  p99_ms: number;
  writes_per_s: number;
  putmany4_p50_ms: number;
  putmany4_p99_ms: number;
}

async function measure(backend: string, store: CheckpointStore): Promise<Result> {
  await store.acquireLease({ owner: 'bench', ttlMs: 600_000 });
  let seq = BASE;
  const next = () => {
    seq += 1000n;
    return seq.toString();
  };
  for (let i = 0; i < WARMUP; i++) await store.put(SHARDS[i % 4] ?? '', { sequenceNumber: next() });

  const single: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < WRITES; i++) {
    const t0 = process.hrtime.bigint();
    await store.put(SHARDS[i % 4] ?? '', { sequenceNumber: next() });
    single.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const totalS = Number(process.hrtime.bigint() - start) / 1e9;

  const many: number[] = [];
  for (let i = 0; i < BATCHES; i++) {
    const value = next();
    const t0 = process.hrtime.bigint();
    await store.putMany(SHARDS.map((s) => [s, { sequenceNumber: value }] as const));
    many.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const last = await store.get(SHARDS[3] ?? '');
  if (last?.sequenceNumber !== seq.toString())
    throw new Error(`${backend}: last write not read back`);
  await store.releaseLease();
  await store.close();

  single.sort((a, b) => a - b);
  many.sort((a, b) => a - b);
  return {
    backend,
    p50_ms: percentile(single, 50),
    p99_ms: percentile(single, 99),
    writes_per_s: Math.round(WRITES / totalS),
    putmany4_p50_ms: percentile(many, 50),
    putmany4_p99_ms: percentile(many, 99),
  };
}

const results: Result[] = [];
const scope = { application: 'bench', stream: 'agent-events' };

results.push(await measure('memory', new MemoryCheckpointStore(scope)));

const dir = await mkdtemp(join(tmpdir(), 'cps-bench-'));
try {
  results.push(
    await measure(
      'file',
      new FileCheckpointStore({ ...scope, path: join(dir, 'checkpoints.json') }),
    ),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

const dynamo = await startDynalite();
try {
  results.push(
    await measure(
      'dynamodb',
      new DynamoDbCheckpointStore({ ...scope, client: dynamo.client(), tableName: 'bench' }),
    ),
  );
} finally {
  await dynamo.stop();
}

const postgres = await startPostgres();
try {
  results.push(
    await measure(
      'postgres',
      new PostgresCheckpointStore({ ...scope, connectionString: postgres.connectionString }),
    ),
  );
} finally {
  await postgres.stop();
}

const baseline = results[0]?.p50_ms ?? Number.NaN;
printTable(results.map((r) => ({ ...r })));
for (const r of results) {
  printBench(`checkpoint-${r.backend}`, {
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    writes_per_s: r.writes_per_s,
    putmany4_p50_ms: r.putmany4_p50_ms,
    putmany4_p99_ms: r.putmany4_p99_ms,
    p50_vs_memory: r.p50_ms / baseline,
    peak_rss_mb: peakRssMb(),
  });
}
