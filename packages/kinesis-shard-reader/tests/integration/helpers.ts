import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { MemoryCheckpointStore } from '@connect-wfm/checkpoint-store';
import {
  KinesisShardReader,
  type KinesisShardReaderOptions,
  type ShardBatch,
} from '@connect-wfm/kinesis-shard-reader';
import type { PutRecordInput } from '@connect-wfm/testkit';

/** Hash keys that land in each of `n` equal shards (the start of each shard's range). */
export function shardHashKeys(n: number): string[] {
  const step = 2n ** 128n / BigInt(n);
  return Array.from({ length: n }, (_, i) => (step * BigInt(i) + 1n).toString());
}

/** `count` records spread round-robin over `shards` shards, payload `${prefix}-${i}`. */
export function spread(prefix: string, count: number, shards: number): PutRecordInput[] {
  const keys = shardHashKeys(shards);
  return Array.from({ length: count }, (_, i) => ({
    data: `${prefix}-${i}`,
    partitionKey: `${prefix}-${i}`,
    explicitHashKey: keys[i % shards] ?? '0',
  }));
}

export function text(data: Uint8Array): string {
  return Buffer.from(data).toString('utf8');
}

export function memoryStore(stream: string): MemoryCheckpointStore {
  return new MemoryCheckpointStore({ application: 'test', stream });
}

/** Options that keep integration tests fast. */
export const fast = {
  idleIntervalMs: 200,
  minBackToBackMs: 200,
  shardDiscoveryIntervalMs: 200,
  throttleBackoff: { baseMs: 10, maxMs: 50 },
} as const;

/**
 * A reader of `stream` from TRIM_HORIZON with a fresh memory checkpoint store and the {@link fast}
 * options; `options` override any of them.
 */
export function testReader(
  client: KinesisClient,
  stream: string,
  options: Partial<KinesisShardReaderOptions> = {},
): KinesisShardReader {
  return new KinesisShardReader({
    client,
    stream,
    checkpointStore: memoryStore(stream),
    initialPosition: { type: 'TRIM_HORIZON' },
    ...fast,
    ...options,
  });
}

/**
 * Consumes batches until `until(batches)` holds or `timeoutMs` passes, checkpointing each batch
 * after `onBatch`, then stops the reader. Returns every batch received.
 */
export async function consume(
  reader: KinesisShardReader,
  until: (batches: readonly ShardBatch[]) => boolean,
  options: {
    timeoutMs?: number;
    checkpoint?: (batch: ShardBatch, index: number) => boolean;
    onBatch?: (batch: ShardBatch) => Promise<void> | void;
  } = {},
): Promise<ShardBatch[]> {
  const batches: ShardBatch[] = [];
  const timer = setTimeout(() => void reader.stop(), options.timeoutMs ?? 15_000);
  try {
    for await (const batch of reader) {
      batches.push(batch);
      await options.onBatch?.(batch);
      if (options.checkpoint?.(batch, batches.length - 1) ?? true) await batch.checkpoint();
      if (until(batches)) break;
    }
  } finally {
    clearTimeout(timer);
    await reader.stop();
  }
  return batches;
}

export function payloads(batches: readonly ShardBatch[]): string[] {
  return batches.flatMap((b) => b.records.map((r) => text(r.data)));
}

export function recordCount(batches: readonly ShardBatch[]): number {
  return batches.reduce((n, b) => n + b.records.length, 0);
}

/**
 * Records the `Limit` of every GetRecords call `client` sends (SDK middleware on the real
 * client, so the request still goes to the peer). Returns the list it fills.
 */
export function recordGetRecordsLimits(client: KinesisClient): number[] {
  const limits: number[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetRecordsCommand') {
        limits.push((args.input as { Limit?: number }).Limit ?? Number.NaN);
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordGetRecordsLimits' },
  );
  return limits;
}
