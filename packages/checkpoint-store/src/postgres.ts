/**
 * `@connect-wfm/checkpoint-store/postgres`: the PostgreSQL backend. Needs the optional peer
 * dependency `pg` when the store creates its pool from `connectionString` (loaded on first use;
 * a missing package fails that call with `DriverMissingError`); with an injected `pool` it uses
 * yours.
 *
 * @example
 * import { PostgresCheckpointStore } from '@connect-wfm/checkpoint-store/postgres';
 *
 * const store = new PostgresCheckpointStore({ application: 'rta', stream: 'agent-events', connectionString: process.env.DATABASE_URL });
 */
export {
  POSTGRES_SCHEMA_VERSION,
  PostgresCheckpointStore,
  runPostgresMigrations,
} from './postgres-store.js';
export type { PostgresCheckpointStoreOptions } from './postgres-types.js';
