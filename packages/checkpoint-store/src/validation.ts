/** Argument validation shared by every backend: scope, shard ids, updates, lease options. */

import { SEQUENCE_NUMBER_PATTERN, SHARD_ID_PATTERN } from '@connect-wfm/core';
import { InvalidArgumentError } from './errors.js';
import type { NormalizedUpdate } from './scope-state.js';
import type { AcquireLeaseOptions, CheckpointUpdate } from './types.js';

/** `application "a" stream "s"`, used in messages. */
export function scopeLabel(application: string, stream: string): string {
  return `application "${application}" stream "${stream}"`;
}

/** Validates the (application, stream) pair every backend is scoped to. */
export function validateScope(application: unknown, stream: unknown): void {
  if (typeof application !== 'string' || application.length === 0 || application.length > 256) {
    throw new InvalidArgumentError(
      `application must be a string of 1–256 characters, got ${describe(application)}`,
    );
  }
  if (application.includes('#')) {
    throw new InvalidArgumentError(
      `application "${application}" must not contain "#" (it separates application and stream in keys)`,
    );
  }
  if (typeof stream !== 'string' || stream.length === 0 || stream.length > 2048) {
    throw new InvalidArgumentError(
      `stream must be a stream name or ARN of 1–2048 characters, got ${describe(stream)}`,
    );
  }
}

/** Throws unless `shardId` looks like a Kinesis shard id. */
export function validateShardId(scope: string, shardId: unknown): string {
  if (typeof shardId !== 'string' || !SHARD_ID_PATTERN.test(shardId)) {
    throw new InvalidArgumentError(
      `invalid shard id ${describe(shardId)} for ${scope}: expected 1–128 characters of [a-zA-Z0-9_.-], such as "shardId-000000000000"`,
    );
  }
  return shardId;
}

/** Validates and normalises one update. */
export function normalizeUpdate(
  scope: string,
  shardId: string,
  update: CheckpointUpdate,
): NormalizedUpdate {
  if (update === null || typeof update !== 'object') {
    throw new InvalidArgumentError(
      `checkpoint update of ${scope} shard ${shardId} must be an object, got ${describe(update)}`,
    );
  }
  const { sequenceNumber, shardEnd } = update;
  if (
    sequenceNumber !== undefined &&
    (typeof sequenceNumber !== 'string' || !SEQUENCE_NUMBER_PATTERN.test(sequenceNumber))
  ) {
    throw new InvalidArgumentError(
      `invalid sequence number ${describe(sequenceNumber)} for ${scope} shard ${shardId}: expected a decimal string of at most 129 digits without leading zeros, as Kinesis returns it`,
    );
  }
  if (shardEnd !== undefined && typeof shardEnd !== 'boolean') {
    throw new InvalidArgumentError(
      `shardEnd of ${scope} shard ${shardId} must be a boolean, got ${describe(shardEnd)}`,
    );
  }
  if (sequenceNumber === undefined && shardEnd !== true) {
    throw new InvalidArgumentError(
      `empty checkpoint update for ${scope} shard ${shardId}: give a sequenceNumber, shardEnd: true, or both`,
    );
  }
  return { sequenceNumber, shardEnd: shardEnd === true };
}

/** Validates lease options. */
export function validateLeaseOptions(scope: string, options: AcquireLeaseOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`acquireLease on ${scope} needs { owner, ttlMs }`);
  }
  if (
    typeof options.owner !== 'string' ||
    options.owner.length === 0 ||
    options.owner.length > 256
  ) {
    throw new InvalidArgumentError(
      `lease owner for ${scope} must be a string of 1–256 characters, got ${describe(options.owner)}`,
    );
  }
  if (
    typeof options.ttlMs !== 'number' ||
    !Number.isInteger(options.ttlMs) ||
    options.ttlMs < 1 ||
    options.ttlMs > 86_400_000
  ) {
    throw new InvalidArgumentError(
      `lease ttlMs for ${scope} must be an integer from 1 to 86400000 (one day), got ${describe(options.ttlMs)}`,
    );
  }
}

/** A short description of a value for error messages (strings cut at 80 characters). */
export function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
