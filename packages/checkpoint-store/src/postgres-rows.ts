import {
  emptyShards,
  SEQUENCE_NUMBER_PATTERN,
  SHARD_ID_PATTERN,
  type ShardRecord,
} from './core.js';
import type { Lease } from './types.js';

// The rows the PostgreSQL store reads back, and how they become checkpoints and leases.

/** One checkpoint as kept in `checkpoint_store_states.checkpoints` (jsonb). */
export interface StoredCheckpoint {
  shardId: string;
  sequenceNumber: string | null;
  shardEnd: boolean;
  updatedAt: string;
}

/** A row of `checkpoint_store_leases` as read by the store. */
export interface LeaseRow {
  owner: string | null;
  token: string;
  expires_at: Date;
}

/** The lease as the store hands it out. */
export function toLease(row: LeaseRow): Lease {
  return { owner: row.owner ?? '', token: Number(row.token), expiresAt: row.expires_at };
}

/**
 * Decodes the `checkpoints` jsonb copy kept with a committed state; `corrupt` builds the error
 * thrown when it is malformed.
 */
export function parseStoredCheckpoints(
  checkpoints: unknown,
  corrupt: () => Error,
): Record<string, ShardRecord> {
  const shards = emptyShards();
  if (!Array.isArray(checkpoints)) throw corrupt();
  for (const entry of checkpoints as unknown[]) {
    const cp = (
      typeof entry === 'object' && entry !== null ? entry : {}
    ) as Partial<StoredCheckpoint>;
    const at = Date.parse(String(cp.updatedAt));
    if (
      typeof cp.shardId !== 'string' ||
      !SHARD_ID_PATTERN.test(cp.shardId) ||
      !(
        cp.sequenceNumber === null ||
        (typeof cp.sequenceNumber === 'string' && SEQUENCE_NUMBER_PATTERN.test(cp.sequenceNumber))
      ) ||
      typeof cp.shardEnd !== 'boolean' ||
      !Number.isFinite(at)
    ) {
      throw corrupt();
    }
    shards[cp.shardId] = {
      sequenceNumber: cp.sequenceNumber,
      shardEnd: cp.shardEnd,
      updatedAt: at,
    };
  }
  return shards;
}
