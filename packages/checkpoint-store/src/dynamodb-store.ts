import { createHash, randomBytes } from 'node:crypto';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { backoffDelay, sleep } from '@connect-wfm/core';
import {
  applyCommit,
  type CommittedRecord,
  emptyShards,
  type Fence,
  type NormalizedUpdate,
  type ScopeState,
  StateCheckpointStore,
  toCommittedState,
} from './core.js';
import {
  CHUNK_CONCURRENCY,
  type DynamoChunkContext,
  deleteChunks,
  forEachLimited,
  removeOrphanChunks,
  STATE_CHUNK_BYTES,
} from './dynamodb-chunks.js';
import {
  chunkSortKey,
  errorName,
  errorText,
  parseRef,
  parseScopeItem,
  type StateRef,
  shardList,
  type VersionedState,
} from './dynamodb-item.js';
import { prepareDynamoTable } from './dynamodb-table.js';
import type { DynamoDbCheckpointStoreOptions } from './dynamodb-types.js';
import {
  BackendError,
  CheckpointStoreError,
  ConflictError,
  InvalidArgumentError,
  StoreCorruptError,
} from './errors.js';
import { loadDynamoDb } from './optional-dependency.js';
import type { CommittedState } from './types.js';

type DynamoDbModule = typeof import('@aws-sdk/client-dynamodb');

/** Sort key of the item holding a scope's checkpoints and lease. */
export const DYNAMODB_SCOPE_SORT_KEY = 'scope';

const TABLE_NAME_PATTERN = /^[a-zA-Z0-9_.-]{3,255}$/;
/** Reads of a committed state retried when a concurrent commit replaced it mid-read. */
const STATE_READ_ATTEMPTS = 5;

/**
 * Checkpoints and the leader lease in DynamoDB.
 *
 * Layout: table with `pk` (S, hash key) and `sk` (S, range key). Each (application, stream)
 * is ONE item, `pk = "<application>#<stream>"`, `sk = "scope"`, holding the lease
 * (`leaseOwner`, `leaseToken`, `leaseExpiresAt`), a version counter `v`, and `shards`, a list
 * of `{ id, seq, end, at }` (shard id, sequence number or NULL, SHARD_END, epoch ms). Every
 * write reads the item (strongly consistent), applies
 * the change, and writes it back with `PutItem` conditional on the version it read and, while
 * this instance holds the lease, on `leaseOwner`/`leaseToken` being still its own: a write by
 * an owner whose lease was taken over can never land, and `putMany` is atomic. A lost race is
 * retried after re-reading.
 *
 * @example
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDbCheckpointStore } from '@connect-wfm/checkpoint-store/dynamodb';
 *
 * const store = new DynamoDbCheckpointStore({
 *   application: 'rta',
 *   stream: 'agent-events',
 *   client: new DynamoDBClient({ region: 'eu-west-1' }),
 *   tableName: 'connect-wfm-checkpoints',
 * });
 * await store.put('shardId-000000000000', { sequenceNumber: '49590338271490256608559692538361571095921575989136588898' });
 */
export class DynamoDbCheckpointStore extends StateCheckpointStore {
  /** The table used. */
  readonly tableName: string;
  #client: DynamoDBClient | undefined;
  readonly #clientConfig: { region?: string; endpoint?: string };
  #module: DynamoDbModule | undefined;
  readonly #ownsClient: boolean;
  readonly #createTable: boolean;
  readonly #activeTimeoutMs: number;
  readonly #maxRetries: number;
  readonly #key: Record<string, AttributeValue>;
  #ready: Promise<void> | undefined;

  constructor(options: DynamoDbCheckpointStoreOptions) {
    super(options);
    if (typeof options.tableName !== 'string' || !TABLE_NAME_PATTERN.test(options.tableName)) {
      throw new InvalidArgumentError(
        `invalid DynamoDB table name ${JSON.stringify(options.tableName)} for ${this.scope}: expected 3–255 characters of [a-zA-Z0-9_.-]`,
      );
    }
    if (
      options.client !== undefined &&
      (options.region !== undefined || options.endpoint !== undefined)
    ) {
      throw new InvalidArgumentError(
        `DynamoDbCheckpointStore for ${this.scope}: give either client or region/endpoint (they configure the client the store creates)`,
      );
    }
    if (options.client === null) {
      throw new InvalidArgumentError(
        `DynamoDbCheckpointStore for ${this.scope}: client must be a DynamoDBClient`,
      );
    }
    this.tableName = options.tableName;
    this.#client = options.client;
    this.#clientConfig = {
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    };
    // a client the store creates is the store's to destroy
    this.#ownsClient = options.client === undefined || (options.destroyClientOnClose ?? false);
    this.#createTable = options.createTable ?? true;
    this.#activeTimeoutMs = options.tableActiveTimeoutMs ?? 60_000;
    this.#maxRetries = options.maxConflictRetries ?? 50;
    this.#key = {
      pk: { S: `${this.application}#${this.stream}` },
      sk: { S: DYNAMODB_SCOPE_SORT_KEY },
    };
  }

  protected async readState(): Promise<ScopeState> {
    return (await this.#read()).state;
  }

  protected async transact<T>(
    fn: (state: ScopeState, now: number) => { result: T; changed: boolean },
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { state, version } = await this.#read();
      const before = state.lease;
      const { result, changed } = fn(state, this.clock());
      if (!changed) return result;
      try {
        await this.#write(state, version, before);
        return result;
      } catch (err) {
        if (errorName(err) !== 'ConditionalCheckFailedException') throw this.#wrap('write', err);
        if (attempt >= this.#maxRetries) {
          throw new ConflictError(
            `gave up writing the checkpoints of ${this.scope} to DynamoDB table ${this.tableName} after ${attempt + 1} conflicting attempts; too many writers on one (application, stream). Retry later.`,
            { cause: err },
          );
        }
        // another writer changed the item since we read it: re-read (the fence is checked
        // again on the fresh state) and retry after a short jittered pause
        await sleep(backoffDelay(attempt + 1, { baseMs: 1, maxMs: 50, jitter: 'full' }));
      }
    }
  }

  async #read(): Promise<VersionedState> {
    await this.#ensureTable();
    let item: Record<string, AttributeValue> | undefined;
    try {
      const out = await this.#dynamo.send(
        new this.#sdk.GetItemCommand({
          TableName: this.tableName,
          Key: this.#key,
          ConsistentRead: true,
        }),
      );
      item = out.Item;
    } catch (err) {
      throw this.#wrap('read', err);
    }
    if (item === undefined)
      return { state: { shards: emptyShards(), lease: null }, version: undefined };
    return this.#parseItem(item);
  }

  async #write(
    state: ScopeState,
    version: number | undefined,
    leaseBefore: ScopeState['lease'],
  ): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...this.#key,
      application: { S: this.application },
      stream: { S: this.stream },
      v: { N: String((version ?? 0) + 1) },
      shards: { L: shardList(state.shards) },
      updatedAt: { S: new Date(this.clock()).toISOString() },
    };
    if (state.committed !== undefined) {
      item.stateRef = { S: state.committed.state };
      item.stateAt = { N: String(state.committed.writtenAt) };
      item.stateShards = { L: shardList(state.committed.shards) };
    }
    if (state.lease !== null) {
      item.leaseToken = { N: String(state.lease.token) };
      item.leaseExpiresAt = { N: String(state.lease.expiresAt) };
      if (state.lease.owner !== null) item.leaseOwner = { S: state.lease.owner };
    }
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    let condition: string;
    if (version === undefined) {
      condition = 'attribute_not_exists(pk)';
    } else {
      condition = '#v = :v';
      names['#v'] = 'v';
      values[':v'] = { N: String(version) };
    }
    const fence = this.fence;
    if (
      fence !== undefined &&
      leaseBefore?.owner === fence.owner &&
      leaseBefore.token === fence.token
    ) {
      // the fence, spelled out in the condition itself (the version check implies it too)
      condition += ' AND leaseOwner = :owner AND leaseToken = :token';
      values[':owner'] = { S: fence.owner };
      values[':token'] = { N: String(fence.token) };
    }
    await this.#dynamo.send(
      new this.#sdk.PutItemCommand({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: condition,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
      }),
    );
  }

  #parseItem(item: Record<string, AttributeValue>): VersionedState {
    return parseScopeItem(
      item,
      (what) =>
        new StoreCorruptError(
          `the DynamoDB item ${JSON.stringify(this.#key.pk?.S)} in table ${this.tableName} is not a checkpoint store item (${what}); was the table written by something else? Use another table.`,
        ),
    );
  }

  /** The SDK module, loaded by {@link DynamoDbCheckpointStore.#ensureTable} before any call. */
  get #sdk(): DynamoDbModule {
    if (this.#module === undefined) throw new Error('internal: the DynamoDB SDK is not loaded yet');
    return this.#module;
  }

  /** The client (given, or created by the store once the SDK is loaded). */
  get #dynamo(): DynamoDBClient {
    if (this.#client === undefined) throw new Error('internal: the DynamoDB client is not ready');
    return this.#client;
  }

  #ensureTable(): Promise<void> {
    this.#ready ??= this.#loadSdk()
      .then(() => this.#prepareTable())
      .catch((err: unknown) => {
        this.#ready = undefined;
        throw err;
      });
    return this.#ready;
  }

  async #loadSdk(): Promise<void> {
    this.#module ??= await loadDynamoDb();
    this.#client ??= new this.#module.DynamoDBClient(this.#clientConfig);
  }

  #prepareTable(): Promise<void> {
    return prepareDynamoTable({
      client: this.#dynamo,
      sdk: this.#sdk,
      tableName: this.tableName,
      createTable: this.#createTable,
      activeTimeoutMs: this.#activeTimeoutMs,
      logger: this.logger,
      wrap: (what, err) => this.#wrap(what, err),
    });
  }

  #wrap(what: string, err: unknown): CheckpointStoreError {
    if (err instanceof CheckpointStoreError) return err;
    const name = errorName(err) ?? 'Error';
    const hint =
      name === 'ValidationException' && /size/i.test(errorText(err))
        ? ' The scope item outgrew 400 KB: delete the checkpoints of shards past retention.'
        : '';
    return new BackendError(
      `could not ${what} the checkpoints of ${this.scope} in DynamoDB table ${this.tableName}: ${name}: ${errorText(err)}.${hint}`,
      { cause: err },
    );
  }

  protected describeBackend(): string {
    return `DynamoDB table ${this.tableName}`;
  }

  /**
   * A commit's state can far exceed the 400 KB item limit, so it is written first as chunk
   * items of a new generation (`sk = state#<gen>#<index>`), then the scope item is flipped to
   * point at them (with the checkpoints) by the same fenced conditional write as `putMany`. A
   * crash before the flip leaves only unreferenced chunks (removed later); the previous
   * generation's chunks are removed after the flip.
   */
  protected override async doCommit(
    updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
    stateJson: string,
    fence: Fence | undefined,
  ): Promise<void> {
    await this.#ensureTable();
    const payload = Buffer.from(stateJson, 'utf8');
    const ref: StateRef = {
      gen: `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`,
      chunks: Math.max(1, Math.ceil(payload.length / STATE_CHUNK_BYTES)),
      bytes: payload.length,
      sha256: createHash('sha256').update(payload).digest('base64'),
    };
    const at = String(Date.now());
    try {
      await forEachLimited(ref.chunks, CHUNK_CONCURRENCY, async (i) => {
        await this.#dynamo.send(
          new this.#sdk.PutItemCommand({
            TableName: this.tableName,
            Item: {
              pk: this.#key.pk as AttributeValue,
              sk: { S: chunkSortKey(ref.gen, i) },
              d: { B: payload.subarray(i * STATE_CHUNK_BYTES, (i + 1) * STATE_CHUNK_BYTES) },
              at: { N: at },
            },
          }),
        );
      });
    } catch (err) {
      await deleteChunks(this.#chunkContext, ref.gen, ref.chunks);
      throw this.#wrap('write the committed state of', err);
    }
    const previous: { ref: StateRef | undefined } = { ref: undefined };
    try {
      await this.transact((state, now) => {
        previous.ref = state.committed === undefined ? undefined : parseRef(state.committed.state);
        applyCommit(state, this.scope, updates, JSON.stringify(ref), fence, now);
        return { result: undefined, changed: true };
      });
    } catch (err) {
      await deleteChunks(this.#chunkContext, ref.gen, ref.chunks);
      throw err;
    }
    if (previous.ref !== undefined)
      await deleteChunks(this.#chunkContext, previous.ref.gen, previous.ref.chunks);
    await removeOrphanChunks(this.#chunkContext, ref.gen);
  }

  protected override async doGetState(): Promise<CommittedState | undefined> {
    for (let attempt = 1; ; attempt++) {
      const committed = (await this.#read()).state.committed;
      if (committed === undefined) return undefined;
      const text = await this.#readChunks(committed, attempt >= STATE_READ_ATTEMPTS);
      if (text !== undefined) {
        return toCommittedState(this.scope, committed, text, this.describeBackend());
      }
      // a commit replaced the state (and removed its chunks) while we read: read again
    }
  }

  /** The state's text; undefined when a chunk is missing and `final` is false. */
  async #readChunks(committed: CommittedRecord, final: boolean): Promise<string | undefined> {
    const corrupt = (what: string) =>
      new StoreCorruptError(
        `the committed state of ${this.scope} in DynamoDB table ${this.tableName} cannot be read back (${what}); commit a new state, or restore the table from a backup.`,
      );
    const ref = parseRef(committed.state);
    if (ref === undefined) throw corrupt('malformed reference');
    const parts = new Array<Uint8Array>(ref.chunks);
    let missing = false;
    try {
      await forEachLimited(ref.chunks, CHUNK_CONCURRENCY * 2, async (i) => {
        if (missing) return;
        const out = await this.#dynamo.send(
          new this.#sdk.GetItemCommand({
            TableName: this.tableName,
            Key: { pk: this.#key.pk as AttributeValue, sk: { S: chunkSortKey(ref.gen, i) } },
            ConsistentRead: true,
          }),
        );
        const data = out.Item?.d?.B;
        if (data === undefined) missing = true;
        else parts[i] = data;
      });
    } catch (err) {
      throw this.#wrap('read the committed state of', err);
    }
    if (missing) {
      if (final) throw corrupt(`a chunk of generation ${ref.gen} is missing`);
      return undefined;
    }
    const payload = Buffer.concat(parts);
    if (
      payload.length !== ref.bytes ||
      createHash('sha256').update(payload).digest('base64') !== ref.sha256
    ) {
      throw corrupt(`the chunks of generation ${ref.gen} do not match their checksum`);
    }
    return payload.toString('utf8');
  }

  /** What the chunk helpers need (the SDK is loaded by then). */
  get #chunkContext(): DynamoChunkContext {
    return {
      client: this.#dynamo,
      sdk: this.#sdk,
      tableName: this.tableName,
      pk: this.#key.pk as AttributeValue,
      logger: this.logger,
    };
  }

  protected async doClose(): Promise<void> {
    if (this.#ownsClient) this.#client?.destroy();
  }
}
