/**
 * Semantics shared by every backend: argument validation, the never-regress rule, SHARD_END,
 * and the leader lease with its fencing token, expressed on a plain state object. The memory,
 * file and DynamoDB backends run these functions inside their own atomic read-modify-write;
 * the PostgreSQL backend expresses the same rules in SQL.
 *
 * This module is the one place backends import them from; they live in `validation.ts`,
 * `scope-state.ts` (the stored shape), `scope-rules.ts` (the rules), `base-store.ts` (the
 * common front) and `state-store.ts` (backends built on an atomic read-modify-write).
 */

import {
  compareSequenceNumbers,
  SEQUENCE_NUMBER_PATTERN,
  SHARD_ID_PATTERN,
  silentLogger,
} from '@connect-wfm/core';

export { BaseCheckpointStore } from './base-store.js';
export {
  applyCommit,
  applyUpdate,
  assertFence,
  extendLease,
  freeLease,
  lostError,
  takeLease,
} from './scope-rules.js';
export {
  type CommittedRecord,
  cloneScope,
  cloneShards,
  emptyScope,
  emptyShards,
  type Fence,
  type LeaseRecord,
  type NormalizedUpdate,
  type ScopeState,
  type ShardRecord,
  serializeState,
  toCheckpoint,
  toCheckpointMap,
  toCommittedState,
} from './scope-state.js';
export { StateCheckpointStore } from './state-store.js';
export {
  normalizeUpdate,
  scopeLabel,
  validateLeaseOptions,
  validateScope,
  validateShardId,
} from './validation.js';
export { compareSequenceNumbers, SEQUENCE_NUMBER_PATTERN, SHARD_ID_PATTERN, silentLogger };
