import { BackendError, InvalidArgumentError } from '@connect-wfm/checkpoint-store';
import {
  PostgresCheckpointStore,
  runPostgresMigrations,
} from '@connect-wfm/checkpoint-store/postgres';
import { type PostgresServer, startPostgres } from '@connect-wfm/testkit';
import pg from 'pg';
import { describeCheckpointStoreContract } from '../contract/checkpoint-store-contract.js';

let contractPeer: PostgresServer;
let contractPool: pg.Pool;
describeCheckpointStoreContract(
  'postgres',
  async () => {
    contractPeer = await startPostgres();
    contractPool = new pg.Pool({ connectionString: contractPeer.connectionString, max: 8 });
    return {
      create: async (application, stream) =>
        new PostgresCheckpointStore({ application, stream, pool: contractPool }),
    };
  },
  async () => {
    await contractPool.end();
    await contractPeer.stop();
  },
);

describe('PostgresCheckpointStore', () => {
  let postgres: PostgresServer;
  let pool: pg.Pool;

  beforeAll(async () => {
    postgres = await startPostgres();
    pool = new pg.Pool({ connectionString: postgres.connectionString, max: 8 });
  }, 120_000);

  afterAll(async () => {
    await pool.end();
    await postgres.stop();
  });

  it('applies each migration once when several processes start at the same time', async () => {
    const pools = [1, 2, 3, 4].map(
      () => new pg.Pool({ connectionString: postgres.connectionString, max: 1 }),
    );
    try {
      const applied = await Promise.all(
        pools.map((p) => runPostgresMigrations(p, { schema: 'race' })),
      );
      expect(applied.flat()).toEqual([1, 2]);
      const rows = await pool.query(
        'SELECT version FROM race.checkpoint_store_migrations ORDER BY version',
      );
      expect(rows.rows).toEqual([{ version: 1 }, { version: 2 }]);
      expect(await runPostgresMigrations(pool, { schema: 'race' })).toEqual([]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('stores sequence numbers as numeric(129,0) in its own schema', async () => {
    const store = new PostgresCheckpointStore({
      application: 'rta',
      stream: 'agents',
      pool,
      schema: 'cps',
    });
    await store.put('shardId-000000000000', { sequenceNumber: '9'.repeat(129), shardEnd: true });
    const res = await pool.query(
      `SELECT shard_id, sequence_number::text AS s, shard_end, pg_typeof(sequence_number)::text AS t
         FROM cps.checkpoint_store_checkpoints WHERE application = 'rta'`,
    );
    expect(res.rows).toEqual([
      { shard_id: 'shardId-000000000000', s: '9'.repeat(129), shard_end: true, t: 'numeric' },
    ]);
  });

  it('creates and ends its own pool from a connection string', async () => {
    const store = new PostgresCheckpointStore({
      application: 'rta',
      stream: 'agents',
      connectionString: postgres.connectionString,
    });
    await store.put('shardId-000000000000', { sequenceNumber: '1' });
    expect((await store.get('shardId-000000000000'))?.sequenceNumber).toBe('1');
    await store.close();
  });

  it('needs exactly one of pool and connectionString, and a plain schema name', () => {
    expect(() => new PostgresCheckpointStore({ application: 'a', stream: 's' })).toThrow(
      InvalidArgumentError,
    );
    expect(
      () =>
        new PostgresCheckpointStore({
          application: 'a',
          stream: 's',
          pool,
          connectionString: postgres.connectionString,
        }),
    ).toThrow(InvalidArgumentError);
    expect(
      () =>
        new PostgresCheckpointStore({ application: 'a', stream: 's', pool, schema: 'x"; DROP' }),
    ).toThrow(InvalidArgumentError);
  });

  it('reports a refused login as BackendError without the password', async () => {
    const url = new URL(postgres.connectionString);
    url.password = 'not-the-password-42';
    const store = new PostgresCheckpointStore({
      application: 'a',
      stream: 's',
      connectionString: url.toString(),
    });
    const err = await store.get('shardId-000000000000').catch((e: unknown) => e);
    await store.close();
    expect(err).toBeInstanceOf(BackendError);
    expect(String((err as Error).message)).toMatch(/password authentication failed/);
    expect(String((err as Error).message)).not.toContain('not-the-password-42');
  });
});
