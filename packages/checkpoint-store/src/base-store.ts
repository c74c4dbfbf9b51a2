import { type Logger, silentLogger } from '@connect-wfm/core';
import { InvalidArgumentError, LeaseLostError, StoreClosedError } from './errors.js';
import { type Fence, type NormalizedUpdate, serializeState } from './scope-state.js';
import type {
  AcquireLeaseOptions,
  Checkpoint,
  CheckpointStore,
  CheckpointStoreBaseOptions,
  CheckpointUpdate,
  CommittedState,
  Lease,
} from './types.js';
import {
  describe,
  normalizeUpdate,
  scopeLabel,
  validateLeaseOptions,
  validateScope,
  validateShardId,
} from './validation.js';

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
    this.assertNotReleased();
    // last before doCommit: a backend's reference to the state lives until doCommit ends
    const stateJson = this.stateText(state);
    await this.doCommit(list, stateJson, this.fence);
  }

  /**
   * The text `doCommit` receives for `state`: its JSON text (refusing what JSON cannot carry).
   * A backend that writes the state out piece by piece returns a reference of its own instead.
   */
  protected stateText(state: unknown): string {
    return serializeState(this.scope, state);
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
