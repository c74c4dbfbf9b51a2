import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CheckpointStoreConfig,
  createCheckpointStore,
  FileCheckpointStore,
  InvalidConfigError,
  MemoryCheckpointStore,
} from '@connect-wfm/checkpoint-store';
import { DynamoDbCheckpointStore } from '@connect-wfm/checkpoint-store/dynamodb';
import { PostgresCheckpointStore } from '@connect-wfm/checkpoint-store/postgres';

function configError(config: unknown): InvalidConfigError {
  try {
    createCheckpointStore(config as CheckpointStoreConfig);
  } catch (err) {
    if (err instanceof InvalidConfigError) return err;
    throw err;
  }
  throw new Error('expected InvalidConfigError');
}

describe('createCheckpointStore', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cps-factory-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a working file store', async () => {
    const store = createCheckpointStore({
      backend: 'file',
      application: 'rta',
      stream: 'agents',
      path: join(dir, 'cp.json'),
    });
    expect(store).toBeInstanceOf(FileCheckpointStore);
    await store.put('shardId-000000000000', { sequenceNumber: '3' });
    expect((await store.get('shardId-000000000000'))?.sequenceNumber).toBe('3');
    await store.close();
  });

  it('creates memory, DynamoDB and PostgreSQL stores without touching the network', async () => {
    const memory = createCheckpointStore({ backend: 'memory', application: 'a', stream: 's' });
    const dynamo = createCheckpointStore({
      backend: 'dynamodb',
      application: 'a',
      stream: 's',
      tableName: 'checkpoints',
      region: 'eu-west-1',
    });
    const postgres = createCheckpointStore({
      backend: 'postgres',
      application: 'a',
      stream: 's',
      connectionString: 'postgres://u:p@127.0.0.1:1/db',
      schema: 'rta',
    });
    expect(memory).toBeInstanceOf(MemoryCheckpointStore);
    expect(dynamo).toBeInstanceOf(DynamoDbCheckpointStore);
    expect(postgres).toBeInstanceOf(PostgresCheckpointStore);
    await Promise.all([memory.close(), dynamo.close(), postgres.close()]);
  });

  it('reports every problem at once, unknown keys included', () => {
    const err = configError({
      backend: 'file',
      application: '',
      stream: 's',
      path: 42,
      fsnyc: false,
      lockTimeoutMs: -1,
    });
    expect(err.code).toBe('INVALID_CONFIG');
    const paths = err.issues.map((i) => i.path).sort();
    expect(paths).toEqual(['', 'application', 'lockTimeoutMs', 'path']);
    expect(err.issues.find((i) => i.path === '')?.message).toBe('unknown key "fsnyc"');
    expect(err.message).toContain('4 problems');
  });

  it('reports an unknown backend together with the problems of the common keys', () => {
    const err = configError({ backend: 'redis', application: 'a#b' });
    expect(err.issues.map((i) => i.path).sort()).toEqual(['application', 'backend', 'stream']);
  });

  it('needs exactly one of connectionString and pool for postgres', () => {
    const err = configError({ backend: 'postgres', application: 'a', stream: 's' });
    expect(err.issues).toEqual([
      { path: 'connectionString', message: 'give exactly one of connectionString or pool' },
    ]);
  });

  it('refuses region next to an injected DynamoDB client, and a bad table name', () => {
    const err = configError({
      backend: 'dynamodb',
      application: 'a',
      stream: 's',
      tableName: 'x',
      client: { send: () => undefined },
      region: 'eu-west-1',
    });
    expect(err.issues.map((i) => i.path).sort()).toEqual(['client', 'tableName']);
  });

  it('never echoes a connection string in its messages', () => {
    const err = configError({
      backend: 'postgres',
      application: 'a',
      stream: 's',
      connectionString: 'postgres://u:hunter2@h/db',
      pool: 'nope',
    });
    expect(err.message).not.toContain('hunter2');
  });
});
