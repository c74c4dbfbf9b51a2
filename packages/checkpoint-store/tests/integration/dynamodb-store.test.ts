import { inspect } from 'node:util';
import {
  CreateTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { BackendError, InvalidArgumentError } from '@connect-wfm/checkpoint-store';
import { DynamoDbCheckpointStore } from '@connect-wfm/checkpoint-store/dynamodb';
import { type DynaliteServer, startDynalite } from '@connect-wfm/testkit';
import { describeCheckpointStoreContract } from '../contract/checkpoint-store-contract.js';

let contractPeer: DynaliteServer;
describeCheckpointStoreContract(
  'dynamodb (dynalite)',
  async () => {
    contractPeer = await startDynalite();
    const client = contractPeer.client();
    return {
      create: async (application, stream) =>
        new DynamoDbCheckpointStore({ application, stream, client, tableName: 'checkpoints' }),
    };
  },
  async () => {
    await contractPeer.stop();
  },
);

describe('DynamoDbCheckpointStore', () => {
  let dynamo: DynaliteServer;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dynamo = await startDynalite({ createTableMs: 200 });
    client = dynamo.client();
  });

  afterAll(async () => {
    await dynamo.stop();
  });

  it('creates its table on first use and waits until it is ACTIVE, once for concurrent stores', async () => {
    const stores = [1, 2, 3].map(
      (i) =>
        new DynamoDbCheckpointStore({
          application: `app${i}`,
          stream: 's',
          client,
          tableName: 'created',
        }),
    );
    await Promise.all(
      stores.map((s, i) => s.put('shardId-000000000000', { sequenceNumber: String(i) })),
    );
    expect((await stores[2]?.get('shardId-000000000000'))?.sequenceNumber).toBe('2');
  });

  it('keeps one item per (application, stream) with pk "<application>#<stream>"', async () => {
    const store = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'agents',
      client,
      tableName: 'layout',
    });
    await store.put('shardId-000000000000', { sequenceNumber: '77', shardEnd: true });
    await store.acquireLease({ owner: 'pod-a', ttlMs: 1000 });
    const out = await client.send(
      new GetItemCommand({
        TableName: 'layout',
        Key: { pk: { S: 'rta#agents' }, sk: { S: 'scope' } },
      }),
    );
    expect(out.Item).toMatchObject({
      application: { S: 'rta' },
      stream: { S: 'agents' },
      v: { N: '2' },
      leaseOwner: { S: 'pod-a' },
      leaseToken: { N: '1' },
      shards: {
        L: [{ M: { id: { S: 'shardId-000000000000' }, seq: { S: '77' }, end: { BOOL: true } } }],
      },
    });
  });

  async function stateChunkKeys(pk: string, table: string): Promise<string[]> {
    const out = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':p': { S: 'state#' } },
        ProjectionExpression: 'sk',
      }),
    );
    return (out.Items ?? []).map((i) => i.sk?.S ?? '');
  }

  it('writes a large state as chunk items of one generation and removes the previous one', async () => {
    const store = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'chunks',
      client,
      tableName: 'chunked',
    });
    const big = { blob: 'x'.repeat(1_000_000) };
    await store.commit([['shardId-000000000000', { sequenceNumber: '1' }]], big);
    const first = await stateChunkKeys('rta#chunks', 'chunked');
    expect(first.length).toBe(3);
    expect(new Set(first.map((k) => k.split('#')[1])).size).toBe(1);

    await store.commit([['shardId-000000000000', { sequenceNumber: '2' }]], { blob: 'y' });
    const second = await stateChunkKeys('rta#chunks', 'chunked');
    expect(second.length).toBe(1);
    expect(second[0]?.split('#')[1]).not.toBe(first[0]?.split('#')[1]);
    expect((await store.getState())?.state).toEqual({ blob: 'y' });
  });

  it('removes the chunks of a commit refused by the fence, keeping the committed state', async () => {
    const old = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'fenced',
      client,
      tableName: 'chunked',
    });
    const next = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'fenced',
      client,
      tableName: 'chunked',
    });
    await old.acquireLease({ owner: 'a', ttlMs: 100 });
    await old.commit([], { by: 'a' });
    await new Promise((r) => setTimeout(r, 200));
    await next.acquireLease({ owner: 'b', ttlMs: 10_000 });
    await expect(old.commit([], { by: 'a', big: 'z'.repeat(800_000) })).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
    expect((await stateChunkKeys('rta#fenced', 'chunked')).length).toBe(1);
    expect((await next.getState())?.state).toEqual({ by: 'a' });
  });

  it('removes chunks abandoned by a crashed commit once they are old, never the current ones', async () => {
    const store = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'orphans',
      client,
      tableName: 'chunked',
    });
    await store.commit([], { v: 1 });
    const orphan = (gen: string, at: number) =>
      client.send(
        new PutItemCommand({
          TableName: 'chunked',
          Item: {
            pk: { S: 'rta#orphans' },
            sk: { S: `state#${gen}#000000` },
            d: { B: Buffer.from('{}') },
            at: { N: String(at) },
          },
        }),
      );
    await orphan('old-crash', Date.now() - 3_600_000);
    await orphan('fresh-writer', Date.now());
    await store.commit([], { v: 2 });
    const keys = await stateChunkKeys('rta#orphans', 'chunked');
    expect(keys.some((k) => k.includes('old-crash'))).toBe(false);
    expect(keys.some((k) => k.includes('fresh-writer'))).toBe(true);
    expect((await store.getState())?.state).toEqual({ v: 2 });
  });

  it('reports a committed state whose chunks were altered as StoreCorruptError', async () => {
    const store = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'lost',
      client,
      tableName: 'chunked',
    });
    await store.commit([], { v: 'x'.repeat(400_000) });
    const [key] = await stateChunkKeys('rta#lost', 'chunked');
    await client.send(
      new PutItemCommand({
        TableName: 'chunked',
        Item: {
          pk: { S: 'rta#lost' },
          sk: { S: key ?? '' },
          d: { B: Buffer.from('tampered') },
          at: { N: '0' },
        },
      }),
    );
    await expect(store.getState()).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
  });

  it('fails with BackendError when the table is missing and createTable is false', async () => {
    const store = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'agents',
      client,
      tableName: 'missing',
      createTable: false,
    });
    await expect(store.get('shardId-000000000000')).rejects.toThrow(BackendError);
    await expect(store.get('shardId-000000000000')).rejects.toThrow(
      /does not exist and createTable is false/,
    );
  });

  it('keeps credentials and the raw SDK response out of BackendError causes', async () => {
    const credentials = {
      accessKeyId: 'AKIASTORETESTSECRETID',
      secretAccessKey: 'storeTestSecretAccessKey/123',
      sessionToken: 'storeTestSessionTokenXYZ',
    };
    const secrets = [
      credentials.accessKeyId,
      credentials.secretAccessKey,
      credentials.sessionToken,
    ];
    const store = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'agents',
      client: dynamo.client({ credentials }),
      tableName: 'secret-check',
    });
    // an item over DynamoDB's 400 KB limit: the write fails with the SDK's ValidationException
    const seq = '9'.repeat(129);
    const updates = Array.from(
      { length: 1600 },
      (_, i) => [`shardId-${String(i).padStart(120, '0')}`, { sequenceNumber: seq }] as const,
    );
    const err = await store.putMany(updates).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    const cause = (err as BackendError).cause as { name?: string; $metadata?: unknown };
    expect(cause.name).toBe('ValidationException');
    expect(cause.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(Object.getOwnPropertyNames(cause)).not.toContain('$response');
    const text = [
      inspect(err, { showHidden: true, depth: 20 }),
      inspect(err, { depth: null }),
      JSON.stringify(err),
      String((err as Error).message),
    ].join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('refuses a table with another key schema', async () => {
    await client.send(
      new CreateTableCommand({
        TableName: 'foreign',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const store = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'agents',
      client,
      tableName: 'foreign',
    });
    await expect(store.getAll()).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('wraps network failures in BackendError with the cause', async () => {
    const dead = dynamo.client({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const store = new DynamoDbCheckpointStore({
      application: 'rta',
      stream: 'agents',
      client: dead,
      tableName: 'x-table',
    });
    const err = await store.get('shardId-000000000000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).cause).toBeDefined();
  });
});
