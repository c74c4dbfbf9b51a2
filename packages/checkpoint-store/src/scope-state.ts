/**
 * What a backend stores for one (application, stream), copies of it, and its conversion to and
 * from the public shapes (checkpoints, committed state).
 */

import { StoreCorruptError } from './errors.js';
import { notJson, notJsonValue } from './json-chunks.js';
import type { Checkpoint, CommittedState } from './types.js';

/** One shard's stored checkpoint (`updatedAt` in epoch milliseconds). */
export interface ShardRecord {
  sequenceNumber: string | null;
  shardEnd: boolean;
  updatedAt: number;
}

/** The stored lease; `owner: null` once released. Tokens survive releases and only grow. */
export interface LeaseRecord {
  owner: string | null;
  token: number;
  expiresAt: number;
}

/**
 * The last `commit()` of a scope: its state and the checkpoints right after it. `state` is the
 * state's JSON text (memory and file backends) or a backend's reference to where that text is
 * kept (the DynamoDB backend's chunk items).
 */
export interface CommittedRecord {
  state: string;
  shards: Record<string, ShardRecord>;
  writtenAt: number;
}

/** Everything stored for one (application, stream). */
export interface ScopeState {
  shards: Record<string, ShardRecord>;
  lease: LeaseRecord | null;
  /** The last commit, when one was made. */
  committed?: CommittedRecord | undefined;
}

/** The lease this store instance believes it holds; writes must match it. */
export interface Fence {
  readonly owner: string;
  readonly token: number;
}

/** A validated update. */
export interface NormalizedUpdate {
  readonly sequenceNumber: string | undefined;
  readonly shardEnd: boolean;
}

/** An empty scope. */
export function emptyScope(): ScopeState {
  return { shards: emptyShards(), lease: null };
}

/** A record without prototype, so a shard named `__proto__` is an ordinary key. */
export function emptyShards(): Record<string, ShardRecord> {
  return Object.create(null) as Record<string, ShardRecord>;
}

/** Copy of a shard table. */
export function cloneShards(source: Record<string, ShardRecord>): Record<string, ShardRecord> {
  const shards = emptyShards();
  for (const [id, rec] of Object.entries(source)) shards[id] = { ...rec };
  return shards;
}

/** Deep copy of a scope state. */
export function cloneScope(state: ScopeState): ScopeState {
  const copy: ScopeState = {
    shards: cloneShards(state.shards),
    lease: state.lease === null ? null : { ...state.lease },
  };
  if (state.committed !== undefined) {
    copy.committed = { ...state.committed, shards: cloneShards(state.committed.shards) };
  }
  return copy;
}

/**
 * The JSON text of a state given to `commit()`; refuses what JSON cannot carry (undefined, a
 * function, a bigint, a cycle) with an error naming the scope.
 */
export function serializeState(scope: string, state: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(state);
  } catch (err) {
    throw notJson(scope, err);
  }
  if (typeof text !== 'string') throw notJsonValue(scope, state);
  return text;
}

/** The public shape of a stored commit; `stateJson` is its state's JSON text. */
export function toCommittedState(
  scope: string,
  record: CommittedRecord,
  stateJson: string,
  where: string,
): CommittedState {
  let state: unknown;
  try {
    state = JSON.parse(stateJson);
  } catch (err) {
    throw new StoreCorruptError(
      `the committed state of ${scope} in ${where} is not valid JSON (${stateJson.length} characters); restore the store from a backup or commit a new state.`,
      { cause: err },
    );
  }
  return {
    state,
    checkpoints: toCheckpointMap({ shards: record.shards, lease: null }),
    writtenAt: new Date(record.writtenAt),
  };
}

/** Converts a stored record to the public shape. */
export function toCheckpoint(rec: ShardRecord): Checkpoint {
  return {
    sequenceNumber: rec.sequenceNumber,
    shardEnd: rec.shardEnd,
    updatedAt: new Date(rec.updatedAt),
  };
}

/** Every checkpoint of a scope, ordered by shard id. */
export function toCheckpointMap(state: ScopeState): ReadonlyMap<string, Checkpoint> {
  const ids = Object.keys(state.shards).sort();
  const map = new Map<string, Checkpoint>();
  for (const id of ids) {
    const rec = state.shards[id];
    if (rec !== undefined) map.set(id, toCheckpoint(rec));
  }
  return map;
}
