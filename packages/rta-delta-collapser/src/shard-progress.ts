import type { ShardPosition } from './types.js';

/** Per-shard ingest positions (what a checkpoint may commit). */

/** Mutable per-shard ingest position. */
export interface ShardProgress {
  lastSequenceNumber: string | null;
  shardEnded: boolean;
}

/** `a > b` for sequence numbers without leading zeros (longer is larger), without a bigint. */
export function sequenceAfter(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/** The positions of every shard, sorted by shard id. */
export function sortedShardPositions(shards: ReadonlyMap<string, ShardProgress>): ShardPosition[] {
  const out: ShardPosition[] = [];
  for (const [shardId, p] of shards) {
    out.push({ shardId, lastSequenceNumber: p.lastSequenceNumber, shardEnded: p.shardEnded });
  }
  return out.sort((a, b) => (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0));
}
