import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  emptyShards,
  type ScopeState,
  SEQUENCE_NUMBER_PATTERN,
  SHARD_ID_PATTERN,
  StateCheckpointStore,
} from './core.js';
import {
  BackendError,
  CheckpointStoreError,
  ConflictError,
  InvalidArgumentError,
  StoreCorruptError,
} from './errors.js';
import type { DynamoDbCheckpointStoreOptions } from './types.js';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
 * import { DynamoDbCheckpointStore } from '@connect-wfm/checkpoint-store';
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
  readonly #client: DynamoDBClient;
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
    if (options.client === undefined || options.client === null) {
      throw new InvalidArgumentError(
        `DynamoDbCheckpointStore for ${this.scope} needs a DynamoDBClient`,
      );
    }
    this.tableName = options.tableName;
    this.#client = options.client;
    this.#ownsClient = options.destroyClientOnClose ?? false;
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
        await sleep(Math.random() * Math.min(50, 2 ** attempt));
      }
    }
  }

  async #read(): Promise<VersionedState> {
    await this.#ensureTable();
    let item: Record<string, AttributeValue> | undefined;
    try {
      const out = await this.#client.send(
        new GetItemCommand({ TableName: this.tableName, Key: this.#key, ConsistentRead: true }),
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
    // a list, not a map keyed by shard id: a shard named __proto__ stays an ordinary entry
    const shards: AttributeValue[] = Object.keys(state.shards)
      .sort()
      .map((id) => {
        const rec = state.shards[id];
        return {
          M: {
            id: { S: id },
            seq: rec?.sequenceNumber == null ? { NULL: true } : { S: rec.sequenceNumber },
            end: { BOOL: rec?.shardEnd ?? false },
            at: { N: String(rec?.updatedAt ?? 0) },
          },
        };
      });
    const item: Record<string, AttributeValue> = {
      ...this.#key,
      application: { S: this.application },
      stream: { S: this.stream },
      v: { N: String((version ?? 0) + 1) },
      shards: { L: shards },
      updatedAt: { S: new Date(this.clock()).toISOString() },
    };
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
    await this.#client.send(
      new PutItemCommand({
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
    const shards = emptyShards();
    const list = item.shards?.L;
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
    let lease: ScopeState['lease'] = null;
    if (item.leaseToken !== undefined) {
      const token = Number(item.leaseToken.N);
      const expiresAt = Number(item.leaseExpiresAt?.N);
      const owner = item.leaseOwner?.S ?? null;
      if (!Number.isSafeInteger(token) || !Number.isFinite(expiresAt))
        throw corrupt('malformed lease');
      lease = { owner, token, expiresAt };
    }
    return { state: { shards, lease }, version };
  }

  #ensureTable(): Promise<void> {
    this.#ready ??= this.#prepareTable().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async #describe(): Promise<TableDescription | undefined> {
    try {
      const out = await this.#client.send(new DescribeTableCommand({ TableName: this.tableName }));
      return out.Table;
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return undefined;
      throw this.#wrap('describe the table for', err);
    }
  }

  async #prepareTable(): Promise<void> {
    let table = await this.#describe();
    if (table === undefined) {
      if (!this.#createTable) {
        throw new BackendError(
          `DynamoDB table ${this.tableName} does not exist and createTable is false: create it (pk S hash key, sk S range key) or allow the store to create it.`,
        );
      }
      try {
        await this.#client.send(
          new CreateTableCommand({
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
    let pause = 50;
    while (table?.TableStatus !== 'ACTIVE') {
      if (Date.now() > deadline) {
        throw new BackendError(
          `DynamoDB table ${this.tableName} is ${table?.TableStatus ?? 'missing'}, not ACTIVE, after ${this.#activeTimeoutMs} ms; check it in the AWS console.`,
        );
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 1000);
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

  protected async doClose(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy();
  }
}
