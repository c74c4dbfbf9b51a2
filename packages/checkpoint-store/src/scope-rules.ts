/**
 * The rules every backend applies inside its atomic read-modify-write, on a plain
 * {@link ScopeState}: the fence check, the never-regress rule, SHARD_END, and the leader lease.
 */

import { compareSequenceNumbers } from '@connect-wfm/core';
import { CheckpointRegressionError, LeaseHeldError, LeaseLostError } from './errors.js';
import {
  cloneShards,
  type Fence,
  type LeaseRecord,
  type NormalizedUpdate,
  type ScopeState,
} from './scope-state.js';
import type { Lease } from './types.js';

/** Refuses the write unless the stored lease still carries this instance's owner and token. */
export function assertFence(state: ScopeState, scope: string, fence: Fence | undefined): void {
  if (fence === undefined) return;
  const lease = state.lease;
  if (lease === null || lease.owner !== fence.owner || lease.token !== fence.token) {
    throw lostError(scope, fence, lease);
  }
}

/** The `LeaseLostError` for a fence that no longer matches `lease`. */
export function lostError(
  scope: string,
  fence: Fence,
  lease: { owner: string | null; token: number } | null,
): LeaseLostError {
  const now =
    lease === null || lease.owner === null
      ? 'nobody holds it now'
      : `it is now held by ${lease.owner} with token ${lease.token}`;
  return new LeaseLostError(
    `the leader lease of ${scope} held by ${fence.owner} with token ${fence.token} was lost (${now}); this write was refused. Stop reading and checkpointing, then call acquireLease again if this process should lead.`,
    fence.owner,
    fence.token,
  );
}

/** Applies one update, refusing regressions. Mutates `state`. */
export function applyUpdate(
  state: ScopeState,
  scope: string,
  shardId: string,
  update: NormalizedUpdate,
  now: number,
): void {
  const current = state.shards[shardId];
  let sequenceNumber = current?.sequenceNumber ?? null;
  if (update.sequenceNumber !== undefined) {
    if (
      sequenceNumber !== null &&
      compareSequenceNumbers(update.sequenceNumber, sequenceNumber) < 0
    ) {
      throw new CheckpointRegressionError(scope, shardId, sequenceNumber, update.sequenceNumber);
    }
    sequenceNumber = update.sequenceNumber;
  }
  state.shards[shardId] = {
    sequenceNumber,
    shardEnd: (current?.shardEnd ?? false) || update.shardEnd,
    updatedAt: now,
  };
}

/**
 * Applies a commit to `state`: checks the fence, applies every update (refusing regressions),
 * then records `stateRef` with a copy of the resulting checkpoints. Mutates `state`.
 */
export function applyCommit(
  state: ScopeState,
  scope: string,
  updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
  stateRef: string,
  fence: Fence | undefined,
  now: number,
): void {
  assertFence(state, scope, fence);
  for (const [shardId, update] of updates) applyUpdate(state, scope, shardId, update, now);
  state.committed = { state: stateRef, shards: cloneShards(state.shards), writtenAt: now };
}

/** Takes the lease when free, expired, or already held by the same owner. Mutates `state`. */
export function takeLease(
  state: ScopeState,
  scope: string,
  owner: string,
  ttlMs: number,
  now: number,
): Lease {
  const lease = state.lease;
  if (lease !== null && lease.owner !== null && lease.owner !== owner && lease.expiresAt > now) {
    throw new LeaseHeldError(scope, owner, lease.owner, new Date(lease.expiresAt));
  }
  const next: LeaseRecord = { owner, token: (lease?.token ?? 0) + 1, expiresAt: now + ttlMs };
  state.lease = next;
  return { owner, token: next.token, expiresAt: new Date(next.expiresAt) };
}

/** Extends the lease when this fence still holds it. Mutates `state`. */
export function extendLease(
  state: ScopeState,
  scope: string,
  fence: Fence,
  ttlMs: number,
  now: number,
): Lease {
  assertFence(state, scope, fence);
  const expiresAt = now + ttlMs;
  state.lease = { owner: fence.owner, token: fence.token, expiresAt };
  return { owner: fence.owner, token: fence.token, expiresAt: new Date(expiresAt) };
}

/** Frees the lease when this fence still holds it (no-op otherwise). Mutates `state`. */
export function freeLease(state: ScopeState, fence: Fence, now: number): boolean {
  const lease = state.lease;
  if (lease === null || lease.owner !== fence.owner || lease.token !== fence.token) return false;
  state.lease = { owner: null, token: lease.token, expiresAt: now };
  return true;
}
