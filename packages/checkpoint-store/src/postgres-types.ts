/**
 * Options of the PostgreSQL backend. Kept out of types.ts so that the root entry's declarations
 * never mention `pg` (issue 18: no package imports a module it does not use).
 */
import type { Pool } from 'pg';
import type { CheckpointStoreBaseOptions } from './types.js';

/** Options of `PostgresCheckpointStore`: give exactly one of `pool` or `connectionString`. */
export interface PostgresCheckpointStoreOptions extends CheckpointStoreBaseOptions {
  /** A `pg` pool to use; the store never ends an injected pool. */
  readonly pool?: Pool | undefined;
  /** Connection string of a pool the store creates (and ends in `close()`). */
  readonly connectionString?: string | undefined;
  /**
   * Schema holding the store's tables (`[a-z_][a-z0-9_]*`, created when missing).
   * @default 'public'
   */
  readonly schema?: string | undefined;
  /** Largest pool size when the store creates the pool. @default 4 */
  readonly maxConnections?: number | undefined;
}
