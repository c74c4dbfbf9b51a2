import { BaseCheckpointStore } from './base-store.js';
import {
  applyCommit,
  applyUpdate,
  assertFence,
  extendLease,
  freeLease,
  takeLease,
} from './scope-rules.js';
import {
  type Fence,
  type NormalizedUpdate,
  type ScopeState,
  toCheckpoint,
  toCheckpointMap,
  toCommittedState,
} from './scope-state.js';
import type { Checkpoint, CheckpointStoreBaseOptions, CommittedState, Lease } from './types.js';

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
