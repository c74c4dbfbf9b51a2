import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { emptyShards, type ScopeState, SEQUENCE_NUMBER_PATTERN, SHARD_ID_PATTERN } from './core.js';

// The DynamoDB wire encoding of a scope: the scope item's attributes, the shard list, the
// reference to a commit's chunked state, and the SDK error fields the store reads.

/** Where a commit's state is kept: `chunks` items `state#<gen>#<index>`. */
export interface StateRef {
  readonly gen: string;
  readonly chunks: number;
  readonly bytes: number;
  readonly sha256: string;
}

export function parseRef(text: string): StateRef | undefined {
  try {
    const v = JSON.parse(text) as Partial<StateRef>;
    if (
      typeof v.gen === 'string' &&
      /^[a-z0-9-]{1,64}$/.test(v.gen) &&
      Number.isSafeInteger(v.chunks) &&
      Number.isSafeInteger(v.bytes) &&
      typeof v.sha256 === 'string'
    ) {
      return v as StateRef;
    }
  } catch {
    // fall through
  }
  return undefined;
}

export function chunkSortKey(gen: string, index: number): string {
  return `state#${gen}#${String(index).padStart(6, '0')}`;
}

export interface VersionedState {
  state: ScopeState;
  /** `undefined` when the item does not exist yet. */
  version: number | undefined;
}

export function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err
    ? String((err as { name: unknown }).name)
    : undefined;
}

export function errorText(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err
    ? String((err as { message: unknown }).message)
    : String(err);
}

/**
 * Decodes the scope item; `corrupt` builds the error naming the item and table for `what` was
 * wrong.
 */
export function parseScopeItem(
  item: Record<string, AttributeValue>,
  corrupt: (what: string) => Error,
): VersionedState {
  const version = Number(item.v?.N);
  if (!Number.isSafeInteger(version) || version < 1) throw corrupt('no version number v');
  const shards = parseShards(item.shards?.L, corrupt);
  let lease: ScopeState['lease'] = null;
  if (item.leaseToken !== undefined) {
    const token = Number(item.leaseToken.N);
    const expiresAt = Number(item.leaseExpiresAt?.N);
    const owner = item.leaseOwner?.S ?? null;
    if (!Number.isSafeInteger(token) || !Number.isFinite(expiresAt))
      throw corrupt('malformed lease');
    lease = { owner, token, expiresAt };
  }
  const state: ScopeState = { shards, lease };
  if (item.stateRef !== undefined) {
    const ref = item.stateRef.S;
    const at = Number(item.stateAt?.N);
    if (ref === undefined || parseRef(ref) === undefined || !Number.isFinite(at)) {
      throw corrupt('malformed stateRef');
    }
    state.committed = {
      state: ref,
      shards: parseShards(item.stateShards?.L, corrupt),
      writtenAt: at,
    };
  }
  return { state, version };
}

function parseShards(
  list: AttributeValue[] | undefined,
  corrupt: (what: string) => Error,
): ScopeState['shards'] {
  const shards = emptyShards();
  if (list === undefined) throw corrupt('no shards list');
  for (const value of list) {
    const m = value.M;
    const id = m?.id?.S ?? '';
    const seq = m?.seq;
    const sequenceNumber = seq?.NULL === true ? null : seq?.S;
    const end = m?.end?.BOOL;
    const at = Number(m?.at?.N);
    if (
      !SHARD_ID_PATTERN.test(id) ||
      sequenceNumber === undefined ||
      (sequenceNumber !== null && !SEQUENCE_NUMBER_PATTERN.test(sequenceNumber)) ||
      typeof end !== 'boolean' ||
      !Number.isFinite(at)
    ) {
      throw corrupt(`malformed shard entry ${JSON.stringify(id)}`);
    }
    shards[id] = { sequenceNumber, shardEnd: end, updatedAt: at };
  }
  return shards;
}

/** The shard table as a DynamoDB list (not a map: a shard named __proto__ stays ordinary). */
export function shardList(shards: ScopeState['shards']): AttributeValue[] {
  return Object.keys(shards)
    .sort()
    .map((id) => {
      const rec = shards[id];
      return {
        M: {
          id: { S: id },
          seq: rec?.sequenceNumber == null ? { NULL: true } : { S: rec.sequenceNumber },
          end: { BOOL: rec?.shardEnd ?? false },
          at: { N: String(rec?.updatedAt ?? 0) },
        },
      };
    });
}
