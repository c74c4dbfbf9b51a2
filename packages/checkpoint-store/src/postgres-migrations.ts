import type pg from 'pg';
import { BackendError, CheckpointStoreError, InvalidArgumentError } from './errors.js';

// The PostgreSQL schema of the checkpoint store: its versioned migrations and the runner that
// applies them, plus the identifier quoting and error text the store shares with it.

export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** One versioned migration. */
interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: (schema: string) => string;
}

/** The store's migrations, in order. Never edit an applied one: add a new version. */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create checkpoints and leases',
    sql: (s) => `
      CREATE TABLE IF NOT EXISTS ${s}.checkpoint_store_checkpoints (
        application     text NOT NULL,
        stream          text NOT NULL,
        shard_id        text NOT NULL,
        sequence_number numeric(129, 0) NULL,
        shard_end       boolean NOT NULL DEFAULT false,
        updated_at      timestamptz NOT NULL,
        PRIMARY KEY (application, stream, shard_id)
      );
      CREATE TABLE IF NOT EXISTS ${s}.checkpoint_store_leases (
        application text NOT NULL,
        stream      text NOT NULL,
        owner       text NULL,
        token       bigint NOT NULL,
        expires_at  timestamptz NOT NULL,
        PRIMARY KEY (application, stream)
      );`,
  },
  {
    version: 2,
    name: 'create committed states',
    sql: (s) => `
      CREATE TABLE IF NOT EXISTS ${s}.checkpoint_store_states (
        application text NOT NULL,
        stream      text NOT NULL,
        state       text NOT NULL,
        checkpoints jsonb NOT NULL,
        written_at  timestamptz NOT NULL,
        PRIMARY KEY (application, stream)
      );`,
  },
];

/** Latest migration version this release knows. */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function pgErrorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as { code?: unknown; message?: unknown };
  return `${typeof e.code === 'string' ? `${e.code} ` : ''}${String(e.message)}`;
}

/**
 * Brings the store's tables in `schema` up to date: a versioned migrations table
 * (`checkpoint_store_migrations`), applied in one transaction under a transaction-level
 * advisory lock, so two processes starting at once apply each migration exactly once. Safe to
 * run at every start; `PostgresCheckpointStore` runs it on first use.
 *
 * @returns the versions applied by this call (empty when already up to date)
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await runPostgresMigrations(pool, { schema: 'public' });
 */
export async function runPostgresMigrations(
  pool: pg.Pool,
  options: { schema?: string | undefined } = {},
): Promise<number[]> {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new InvalidArgumentError(
      `invalid PostgreSQL schema name ${JSON.stringify(schema)}: expected [a-z_][a-z0-9_]*, at most 63 characters`,
    );
  }
  const s = quoteIdent(schema);
  const fail = (err: unknown) =>
    new BackendError(
      `could not migrate the checkpoint tables in PostgreSQL schema ${schema}: ${pgErrorText(err)}. Check the connection settings; the role needs CREATE on the schema (see the README for the grants).`,
      { cause: err },
    );
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw fail(err);
  }
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    // one lock per schema, held until COMMIT/ROLLBACK
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `connect-wfm/checkpoint-store/migrations/${schema}`,
    ]);
    if (schema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${s}.checkpoint_store_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const done = await client.query<{ version: number }>(
      `SELECT version FROM ${s}.checkpoint_store_migrations`,
    );
    const have = new Set(done.rows.map((r) => r.version));
    const newest = Math.max(0, ...have);
    if (newest > POSTGRES_SCHEMA_VERSION) {
      throw new BackendError(
        `the checkpoint tables in schema ${schema} are at version ${newest}, newer than this release knows (${POSTGRES_SCHEMA_VERSION}); upgrade @connect-wfm/checkpoint-store.`,
      );
    }
    for (const m of MIGRATIONS) {
      if (have.has(m.version)) continue;
      await client.query(m.sql(s));
      await client.query(
        `INSERT INTO ${s}.checkpoint_store_migrations (version, name) VALUES ($1, $2)`,
        [m.version, m.name],
      );
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof CheckpointStoreError) throw err;
    throw fail(err);
  } finally {
    client.release();
  }
}
