/**
 * Semantics shared by every backend: argument validation, the never-regress rule, SHARD_END,
 * and the leader lease with its fencing token, expressed on a plain state object. The memory,
 * file and DynamoDB backends run these functions inside their own atomic read-modify-write;
 * the PostgreSQL backend expresses the same rules in SQL.
 */

import {
  compareSequenceNumbers,
  type Logger,
  SEQUENCE_NUMBER_PATTERN,
  SHARD_ID_PATTERN,
  silentLogger,
} from '@connect-wfm/core';
import {
  CheckpointRegressionError,
  InvalidArgumentError,
  LeaseHeldError,
  LeaseLostError,
  StoreClosedError,
  StoreCorruptError,
} from './errors.js';
import type {
  AcquireLeaseOptions,
  Checkpoint,
  CheckpointStore,
  CheckpointStoreBaseOptions,
  CheckpointUpdate,
  CommittedState,
  Lease,
} from './types.js';

export { compareSequenceNumbers, SEQUENCE_NUMBER_PATTERN, SHARD_ID_PATTERN, silentLogger };

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

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
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
    throw new InvalidArgumentError(
      `the state given to commit() on ${scope} cannot be written as JSON (${err instanceof Error ? err.message : String(err)}); give plain data (objects, arrays, strings, numbers, booleans, null).`,
      { cause: err },
    );
  }
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(
      `the state given to commit() on ${scope} must be a JSON value (object, array, string, number, boolean or null), got ${typeof state}`,
    );
  }
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

/**
 * Common front of every backend: validates arguments, remembers the lease this instance holds
 * (its fence) and refuses use after close. Backends implement the `do*` methods.
 */
export abstract class BaseCheckpointStore implements CheckpointStore {
  readonly application: string;
  readonly stream: string;
  /** Human-readable scope for messages. */
  protected readonly scope: string;
  protected readonly logger: Logger;
  /** The lease this instance holds (or held and lost, or released), if any. */
  protected fence: Fence | undefined;
  /**
   * True after `releaseLease`: the instance keeps its fence and refuses every write until it
   * acquires the lease again (it never falls back to unfenced writes once it took a lease).
   */
  private released = false;
  private leaseTtlMs = 0;
  private closed = false;

  protected constructor(options: CheckpointStoreBaseOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('checkpoint store options must be an object');
    }
    validateScope(options.application, options.stream);
    this.application = options.application;
    this.stream = options.stream;
    this.scope = scopeLabel(options.application, options.stream);
    this.logger = options.logger ?? silentLogger;
  }

  protected abstract doGetAll(): Promise<ReadonlyMap<string, Checkpoint>>;
  protected abstract doGet(shardId: string): Promise<Checkpoint | undefined>;
  protected abstract doPut(
    updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
    fence: Fence | undefined,
  ): Promise<void>;
  protected abstract doCommit(
    updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
    stateJson: string,
    fence: Fence | undefined,
  ): Promise<void>;
  protected abstract doGetState(): Promise<CommittedState | undefined>;
  protected abstract doDelete(shardId: string, fence: Fence | undefined): Promise<void>;
  protected abstract doAcquire(owner: string, ttlMs: number): Promise<Lease>;
  protected abstract doRenew(fence: Fence, ttlMs: number): Promise<Lease>;
  protected abstract doRelease(fence: Fence): Promise<void>;
  protected abstract doClose(): Promise<void>;

  async get(shardId: string): Promise<Checkpoint | undefined> {
    this.assertOpen();
    return await this.doGet(validateShardId(this.scope, shardId));
  }

  async getAll(): Promise<ReadonlyMap<string, Checkpoint>> {
    this.assertOpen();
    return await this.doGetAll();
  }

  async put(shardId: string, update: CheckpointUpdate): Promise<void> {
    await this.putMany([[shardId, update]]);
  }

  async putMany(updates: Iterable<readonly [string, CheckpointUpdate]>): Promise<void> {
    this.assertOpen();
    const list = this.normalizeAll('putMany', updates);
    if (list.length === 0) return;
    this.assertNotReleased();
    await this.doPut(list, this.fence);
  }

  async commit(
    updates: Iterable<readonly [string, CheckpointUpdate]>,
    state: unknown,
  ): Promise<void> {
    this.assertOpen();
    const list = this.normalizeAll('commit', updates);
    const stateJson = serializeState(this.scope, state);
    this.assertNotReleased();
    await this.doCommit(list, stateJson, this.fence);
  }

  async getState(): Promise<CommittedState | undefined> {
    this.assertOpen();
    return await this.doGetState();
  }

  private normalizeAll(
    method: string,
    updates: Iterable<readonly [string, CheckpointUpdate]>,
  ): Array<readonly [string, NormalizedUpdate]> {
    if (updates === null || typeof updates !== 'object' || !(Symbol.iterator in updates)) {
      throw new InvalidArgumentError(
        `${method} on ${this.scope} takes an iterable of [shardId, update] pairs, got ${describe(updates)}`,
      );
    }
    const list: Array<readonly [string, NormalizedUpdate]> = [];
    for (const entry of updates) {
      if (!Array.isArray(entry) || entry.length !== 2) {
        throw new InvalidArgumentError(
          `${method} on ${this.scope} takes [shardId, update] pairs, got ${describe(entry)}`,
        );
      }
      const shardId = validateShardId(this.scope, entry[0]);
      list.push([shardId, normalizeUpdate(this.scope, shardId, entry[1])]);
    }
    return list;
  }

  async delete(shardId: string): Promise<void> {
    this.assertOpen();
    const id = validateShardId(this.scope, shardId);
    this.assertNotReleased();
    await this.doDelete(id, this.fence);
  }

  async acquireLease(options: AcquireLeaseOptions): Promise<Lease> {
    this.assertOpen();
    validateLeaseOptions(this.scope, options);
    const lease = await this.doAcquire(options.owner, options.ttlMs);
    this.fence = { owner: lease.owner, token: lease.token };
    this.released = false;
    this.leaseTtlMs = options.ttlMs;
    this.logger.info('leader lease acquired', {
      application: this.application,
      stream: this.stream,
      owner: lease.owner,
      token: lease.token,
    });
    return lease;
  }

  async renewLease(): Promise<Lease> {
    this.assertOpen();
    const fence = this.fence;
    if (fence === undefined) {
      throw new LeaseLostError(
        `cannot renew the leader lease of ${this.scope}: this store instance holds none. Call acquireLease first.`,
      );
    }
    this.assertNotReleased();
    try {
      return await this.doRenew(fence, this.leaseTtlMs);
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.logger.warn('leader lease lost', {
          application: this.application,
          stream: this.stream,
          owner: fence.owner,
          token: fence.token,
        });
      }
      throw err;
    }
  }

  async releaseLease(): Promise<void> {
    this.assertOpen();
    const fence = this.fence;
    if (fence === undefined) return;
    // Refuse writes from now on, whether the release succeeds, finds the lease already lost, or
    // fails: only a new acquireLease lifts the refusal.
    this.released = true;
    await this.doRelease(fence);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.doClose();
  }

  /** Refuses writes after `releaseLease` until the lease is acquired again. */
  private assertNotReleased(): void {
    const fence = this.fence;
    if (!this.released || fence === undefined) return;
    throw new LeaseLostError(
      `this store instance released the leader lease of ${this.scope} (owner ${fence.owner}, token ${fence.token}); its writes are refused until it calls acquireLease again.`,
      fence.owner,
      fence.token,
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(this.scope);
  }
}

/**
 * A backend that stores one {@link ScopeState} per (application, stream) and can run an atomic
 * read-modify-write on it (memory: synchronously; file: under a lock file; DynamoDB: a
 * conditional write on a version attribute). Fencing is checked inside that atomic step, so a
 * write by an owner whose lease was taken over can never land.
 */
export abstract class StateCheckpointStore extends BaseCheckpointStore {
  protected readonly clock: () => number;

  protected constructor(
    options: CheckpointStoreBaseOptions & { clock?: (() => number) | undefined },
  ) {
    super(options);
    this.clock = options.clock ?? Date.now;
  }

  /** Reads the current state (a private copy). */
  protected abstract readState(): Promise<ScopeState>;
  /**
   * Atomically: read the state, run `fn` on a private copy, and store the copy unless `fn`
   * threw or returned `changed: false`.
   */
  protected abstract transact<T>(
    fn: (state: ScopeState, now: number) => { result: T; changed: boolean },
  ): Promise<T>;

  protected async doGetAll(): Promise<ReadonlyMap<string, Checkpoint>> {
    return toCheckpointMap(await this.readState());
  }

  protected async doGet(shardId: string): Promise<Checkpoint | undefined> {
    const rec = (await this.readState()).shards[shardId];
    return rec === undefined ? undefined : toCheckpoint(rec);
  }

  protected async doPut(
    updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
    fence: Fence | undefined,
  ): Promise<void> {
    await this.transact((state, now) => {
      assertFence(state, this.scope, fence);
      for (const [shardId, update] of updates) applyUpdate(state, this.scope, shardId, update, now);
      return { result: undefined, changed: true };
    });
  }

  protected async doCommit(
    updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
    stateJson: string,
    fence: Fence | undefined,
  ): Promise<void> {
    await this.transact((state, now) => {
      applyCommit(state, this.scope, updates, stateJson, fence, now);
      return { result: undefined, changed: true };
    });
  }

  protected async doGetState(): Promise<CommittedState | undefined> {
    const committed = (await this.readState()).committed;
    if (committed === undefined) return undefined;
    return toCommittedState(this.scope, committed, committed.state, this.describeBackend());
  }

  /** Where the data lives, for error messages ("the file /x", "DynamoDB table t"). */
  protected abstract describeBackend(): string;

  protected async doDelete(shardId: string, fence: Fence | undefined): Promise<void> {
    await this.transact((state) => {
      assertFence(state, this.scope, fence);
      const existed = shardId in state.shards;
      delete state.shards[shardId];
      return { result: undefined, changed: existed };
    });
  }

  protected async doAcquire(owner: string, ttlMs: number): Promise<Lease> {
    return await this.transact((state, now) => ({
      result: takeLease(state, this.scope, owner, ttlMs, now),
      changed: true,
    }));
  }

  protected async doRenew(fence: Fence, ttlMs: number): Promise<Lease> {
    return await this.transact((state, now) => ({
      result: extendLease(state, this.scope, fence, ttlMs, now),
      changed: true,
    }));
  }

  protected async doRelease(fence: Fence): Promise<void> {
    await this.transact((state, now) => ({
      result: undefined,
      changed: freeLease(state, fence, now),
    }));
  }
}
