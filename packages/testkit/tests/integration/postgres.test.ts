import { existsSync } from 'node:fs';
import { findPostgresBinaries, type PostgresServer, startPostgres } from '@connect-wfm/testkit';
import pg from 'pg';

describe('startPostgres', () => {
  let postgres: PostgresServer;

  beforeAll(async () => {
    postgres = await startPostgres();
  }, 120_000);

  afterAll(async () => {
    await postgres?.stop();
  });

  it('returns a connection string to 127.0.0.1 with a port chosen at run time', () => {
    expect(postgres.connectionString).toMatch(/^postgres:\/\/[^@]+@[^/]+:\d+\/\w+$/);
    if (postgres.kind === 'local') {
      expect(postgres.connectionString).toMatch(/@127\.0\.0\.1:\d+\//);
      expect(postgres.connectionString).not.toMatch(/:5432\//);
    }
  });

  it('runs a SQL round trip through pg', async () => {
    const client = new pg.Client({ connectionString: postgres.connectionString });
    await client.connect();
    try {
      await client.query('CREATE TABLE agents (user_code text PRIMARY KEY, state text NOT NULL)');
      await client.query('INSERT INTO agents VALUES ($1, $2), ($3, $4)', [
        'a1',
        'Available',
        'a2',
        'Break',
      ]);
      const res = await client.query<{ user_code: string; state: string }>(
        'SELECT user_code, state FROM agents ORDER BY user_code',
      );
      expect(res.rows).toEqual([
        { user_code: 'a1', state: 'Available' },
        { user_code: 'a2', state: 'Break' },
      ]);
      const big = await client.query<{ n: string }>(
        "SELECT ('9' || repeat('0', 128))::numeric(129,0) + 1 AS n",
      );
      expect(big.rows[0]?.n).toBe(`9${'0'.repeat(127)}1`);
    } finally {
      await client.end();
    }
  });

  it('refuses a wrong password', async () => {
    const url = new URL(postgres.connectionString);
    url.password = 'wrong-password';
    const client = new pg.Client({ connectionString: url.toString() });
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
    await client.end().catch(() => undefined);
  });

  it('finds the newest PostgreSQL binaries', () => {
    const found = findPostgresBinaries();
    if (postgres.kind === 'local') {
      expect(found).toBeDefined();
      expect(existsSync(`${found?.bin}/postgres`)).toBe(true);
      expect(found?.version).toBe(postgres.version);
    } else {
      expect(postgres.version).toBe('external');
    }
  });
});
