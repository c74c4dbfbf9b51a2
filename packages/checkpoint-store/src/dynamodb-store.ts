import { createHash, randomBytes } from 'node:crypto';
import type {
  AttributeValue,
  DeleteRequest,
  DynamoDBClient,
  TableDescription,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { backoffDelay, sleep } from '@connect-wfm/core';
import {
  applyCommit,
  type CommittedRecord,
  emptyShards,
  type Fence,
  type NormalizedUpdate,
  type ScopeState,
  SEQUENCE_NUMBER_PATTERN,
  SHARD_ID_PATTERN,
  StateCheckpointStore,
  toCommittedState,
} from './core.js';
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

/**
 * Bytes of committed state per chunk item: under DynamoDB's 400 KB item limit with room for the
 * key (a pk of up to 2,305 characters) and the other attributes.
 */
const STATE_CHUNK_BYTES = 350_000;
/** Chunk items written or read at once. */
const CHUNK_CONCURRENCY = 4;
/** Chunk items of an abandoned commit (a crash between chunks and flip) older than this are removed. */
const ORPHAN_CHUNK_AGE_MS = 15 * 60_000;
/** Reads of a committed state retried when a concurrent commit replaced it mid-read. */
const STATE_READ_ATTEMPTS = 5;

/** Where a commit's state is kept: `chunks` items `state#<gen>#<index>`. */
interface StateRef {
  readonly gen: string;
  readonly chunks: number;
  readonly bytes: number;
  readonly sha256: string;
}

function parseRef(text: string): StateRef | undefined {
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

function chunkSortKey(gen: string, index: number): string {
  return `state#${gen}#${String(index).padStart(6, '0')}`;
}

/** Runs `fn` on every index below `count`, at most `limit` at a time. */
async function forEachLimited(
  count: number,
  limit: number,
  fn: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** Sort key of the item holding a scope's checkpoints and lease. */
export const DYNAMODB_SCOPE_SORT_KEY = 'scope';

const TABLE_NAME_PATTERN = /^[a-zA-Z0-9_.-]{3,255}$/;

interface VersionedState {
  state: ScopeState;
  /** `undefined` when the item does not exist yet. */
  version: number | undefined;
}

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err
    ? String((err as { name: unknown }).name)
    : undefined;
}

function errorText(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err
    ? String((err as { message: unknown }).message)
    : String(err);
}

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
    const corrupt = (what: string) =>
      new StoreCorruptError(
        `the DynamoDB item ${JSON.stringify(this.#key.pk?.S)} in table ${this.tableName} is not a checkpoint store item (${what}); was the table written by something else? Use another table.`,
      );
    const version = Number(item.v?.N);
    if (!Number.isSafeInteger(version) || version < 1) throw corrupt('no version number v');
    const shards = this.#parseShards(item.shards?.L, corrupt);
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
        shards: this.#parseShards(item.stateShards?.L, corrupt),
        writtenAt: at,
      };
    }
    return { state, version };
  }

  #parseShards(
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

  async #describe(): Promise<TableDescription | undefined> {
    try {
      const out = await this.#dynamo.send(
        new this.#sdk.DescribeTableCommand({ TableName: this.tableName }),
      );
      return out.Table;
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return undefined;
      throw this.#wrap('describe the table for', err);
    }
  }

  async #loadSdk(): Promise<void> {
    this.#module ??= await loadDynamoDb();
    this.#client ??= new this.#module.DynamoDBClient(this.#clientConfig);
  }

  async #prepareTable(): Promise<void> {
    let table = await this.#describe();
    if (table === undefined) {
      if (!this.#createTable) {
        throw new BackendError(
          `DynamoDB table ${this.tableName} does not exist and createTable is false: create it (pk S hash key, sk S range key) or allow the store to create it.`,
          { retryable: false },
        );
      }
      try {
        await this.#dynamo.send(
          new this.#sdk.CreateTableCommand({
            TableName: this.tableName,
            AttributeDefinitions: [
              { AttributeName: 'pk', AttributeType: 'S' },
              { AttributeName: 'sk', AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
        this.logger.info('created DynamoDB checkpoint table', { tableName: this.tableName });
      } catch (err) {
        // another process created it at the same time: fine
        if (errorName(err) !== 'ResourceInUseException')
          throw this.#wrap('create the table for', err);
      }
      table = await this.#describe();
    }
    const deadline = Date.now() + this.#activeTimeoutMs;
    let waits = 0;
    while (table?.TableStatus !== 'ACTIVE') {
      if (Date.now() > deadline) {
        throw new BackendError(
          `DynamoDB table ${this.tableName} is ${table?.TableStatus ?? 'missing'}, not ACTIVE, after ${this.#activeTimeoutMs} ms; check it in the AWS console.`,
        );
      }
      waits += 1;
      await sleep(backoffDelay(waits, { baseMs: 50, maxMs: 1000, jitter: 'none' }));
      table = await this.#describe();
    }
    const keys = (table.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).sort();
    if (keys.join(',') !== 'pk:HASH,sk:RANGE') {
      throw new InvalidArgumentError(
        `DynamoDB table ${this.tableName} has the key schema ${keys.join(',') || '(none)'}, but the checkpoint store needs pk (S, HASH) and sk (S, RANGE); use another table name.`,
      );
    }
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
      await this.#deleteChunks(ref.gen, ref.chunks);
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
      await this.#deleteChunks(ref.gen, ref.chunks);
      throw err;
    }
    if (previous.ref !== undefined) await this.#deleteChunks(previous.ref.gen, previous.ref.chunks);
    await this.#removeOrphanChunks(ref.gen);
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

  /** Removes chunk items; failures are logged, not thrown (the commit itself succeeded). */
  async #deleteChunks(gen: string, chunks: number): Promise<void> {
    const keys = Array.from({ length: chunks }, (_, i) => chunkSortKey(gen, i));
    await this.#deleteKeys(keys);
  }

  async #deleteKeys(sortKeys: readonly string[]): Promise<void> {
    try {
      for (let i = 0; i < sortKeys.length; i += 25) {
        let requests: WriteRequest[] = sortKeys.slice(i, i + 25).map((sk) => ({
          DeleteRequest: {
            Key: { pk: this.#key.pk as AttributeValue, sk: { S: sk } },
          } satisfies DeleteRequest,
        }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt > 0) await sleep(backoffDelay(attempt, { baseMs: 40, maxMs: 1000 }));
          if (attempt >= 8) throw new Error('unprocessed deletes after 8 attempts');
          const out = await this.#dynamo.send(
            new this.#sdk.BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }),
          );
          requests = out.UnprocessedItems?.[this.tableName] ?? [];
        }
      }
    } catch (err) {
      this.logger.warn('could not remove old committed-state chunks; they are removed later', {
        tableName: this.tableName,
        chunks: sortKeys.length,
        error: errorText(err),
      });
    }
  }

  /** Removes chunks of generations other than `current` left by commits that never flipped. */
  async #removeOrphanChunks(current: string): Promise<void> {
    const stale: string[] = [];
    const cutoff = Date.now() - ORPHAN_CHUNK_AGE_MS;
    try {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await this.#dynamo.send(
          new this.#sdk.QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: {
              ':pk': this.#key.pk as AttributeValue,
              ':prefix': { S: 'state#' },
            },
            ProjectionExpression: 'sk, #at',
            ExpressionAttributeNames: { '#at': 'at' },
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
        for (const item of out.Items ?? []) {
          const sk = item.sk?.S;
          if (sk === undefined || sk.startsWith(`state#${current}#`)) continue;
          if (Number(item.at?.N) < cutoff) stale.push(sk);
        }
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
    } catch (err) {
      this.logger.warn('could not look for abandoned committed-state chunks', {
        tableName: this.tableName,
        error: errorText(err),
      });
      return;
    }
    if (stale.length > 0) await this.#deleteKeys(stale);
  }

  protected async doClose(): Promise<void> {
    if (this.#ownsClient) this.#client?.destroy();
  }
}

/** The shard table as a DynamoDB list (not a map: a shard named __proto__ stays ordinary). */
function shardList(shards: ScopeState['shards']): AttributeValue[] {
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
