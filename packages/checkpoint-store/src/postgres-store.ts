import type pg from 'pg';
import {
  BaseCheckpointStore,
  type Fence,
  lostError,
  type NormalizedUpdate,
  toCheckpoint,
  toCommittedState,
} from './core.js';
import {
  BackendError,
  CheckpointRegressionError,
  CheckpointStoreError,
  InvalidArgumentError,
  LeaseHeldError,
  StoreCorruptError,
} from './errors.js';
import { loadPgPool } from './optional-dependency.js';
import {
  pgErrorText,
  quoteIdent,
  runPostgresMigrations,
  SCHEMA_PATTERN,
} from './postgres-migrations.js';
import {
  type LeaseRow,
  parseStoredCheckpoints,
  type StoredCheckpoint,
  toLease,
} from './postgres-rows.js';
import type { PostgresCheckpointStoreOptions } from './postgres-types.js';

export { POSTGRES_SCHEMA_VERSION, runPostgresMigrations } from './postgres-migrations.js';

import type { Checkpoint, CommittedState, Lease } from './types.js';

/**
 * Checkpoints and the leader lease in PostgreSQL (`pg`).
 *
 * Tables (created by {@link runPostgresMigrations} on first use): `checkpoint_store_checkpoints`
 * (application, stream, shard_id → `sequence_number numeric(129,0)`, shard_end, updated_at)
 * and `checkpoint_store_leases` (application, stream → owner, token, expires_at). Writes are
 * conditional upserts (`ON CONFLICT DO UPDATE ... WHERE stored <= new`), so a checkpoint never
 * regresses even with concurrent writers; while this instance holds the lease, each write runs
 * in a transaction that first locks the lease row on (owner, token) and is refused with
 * `LeaseLostError` when it no longer matches. Lease expiry uses the server's clock.
 *
 * @example
 * import { PostgresCheckpointStore } from '@connect-wfm/checkpoint-store/postgres';
 *
 * const store = new PostgresCheckpointStore({
 *   application: 'rta',
 *   stream: 'agent-events',
 *   connectionString: 'postgres://rta:secret@db.internal:5432/rta',
 * });
 * await store.put('shardId-000000000000', { sequenceNumber: '49590338271490256608559692538361571095921575989136588898' });
 * await store.close(); // ends the pool it created
 */
export class PostgresCheckpointStore extends BaseCheckpointStore {
  /** Schema holding the tables. */
  readonly schema: string;
  #poolOrUndefined: pg.Pool | undefined;
  readonly #connectionString: string | undefined;
  readonly #maxConnections: number;
  readonly #ownsPool: boolean;
  readonly #cp: string;
  readonly #leases: string;
  readonly #states: string;
  #ready: Promise<void> | undefined;

  constructor(options: PostgresCheckpointStoreOptions) {
    super(options);
    const schema = options.schema ?? 'public';
    if (!SCHEMA_PATTERN.test(schema)) {
      throw new InvalidArgumentError(
        `invalid PostgreSQL schema name ${JSON.stringify(schema)} for ${this.scope}: expected [a-z_][a-z0-9_]*, at most 63 characters`,
      );
    }
    const hasPool = options.pool !== undefined;
    const hasUrl = options.connectionString !== undefined;
    if (hasPool === hasUrl) {
      throw new InvalidArgumentError(
        `PostgresCheckpointStore for ${this.scope} needs exactly one of pool or connectionString`,
      );
    }
    this.schema = schema;
    // a pool from a connection string is created on first use, once `pg` is loaded
    this.#poolOrUndefined = options.pool;
    this.#ownsPool = options.pool === undefined;
    this.#connectionString = options.connectionString;
    this.#maxConnections = options.maxConnections ?? 4;
    this.#cp = `${quoteIdent(schema)}.checkpoint_store_checkpoints`;
    this.#leases = `${quoteIdent(schema)}.checkpoint_store_leases`;
    this.#states = `${quoteIdent(schema)}.checkpoint_store_states`;
  }

  /** The pool; set before any query (by {@link PostgresCheckpointStore.#migrate}). */
  get #pool(): pg.Pool {
    if (this.#poolOrUndefined === undefined) throw new Error('internal: the pool is not ready');
    return this.#poolOrUndefined;
  }

  async #openPool(): Promise<pg.Pool> {
    if (this.#poolOrUndefined !== undefined) return this.#poolOrUndefined;
    const Pool = await loadPgPool();
    // another call may have created it while `pg` loaded
    if (this.#poolOrUndefined !== undefined) return this.#poolOrUndefined;
    const pool = new Pool({
      connectionString: this.#connectionString,
      max: this.#maxConnections,
    });
    pool.on('error', (err: Error) => {
      this.logger.warn('idle PostgreSQL connection failed', { error: pgErrorText(err) });
    });
    this.#poolOrUndefined = pool;
    return pool;
  }

  #migrate(): Promise<void> {
    this.#ready ??= this.#openPool()
      .then((pool) => runPostgresMigrations(pool, { schema: this.schema }))
      .then(
        (applied) => {
          if (applied.length > 0) {
            this.logger.info('applied checkpoint store migrations', {
              schema: this.schema,
              applied,
            });
          }
        },
        (err: unknown) => {
          this.#ready = undefined;
          throw err;
        },
      );
    return this.#ready;
  }

  async #query<R extends pg.QueryResultRow>(
    what: string,
    sql: string,
    params: unknown[],
    client?: pg.PoolClient,
  ): Promise<pg.QueryResult<R>> {
    try {
      return await (client ?? this.#pool).query<R>(sql, params);
    } catch (err) {
      throw this.#wrap(what, err);
    }
  }

  #wrap(what: string, err: unknown): CheckpointStoreError {
    if (err instanceof CheckpointStoreError) return err;
    return new BackendError(
      `could not ${what} for ${this.scope} in PostgreSQL (schema ${this.schema}): ${pgErrorText(err)}`,
      { cause: err },
    );
  }

  /** Runs `fn` in a transaction; when `fence` is given, first locks the lease row on it. */
  async #transaction<T>(
    what: string,
    fence: Fence | undefined,
    fn: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    await this.#migrate();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.#wrap(what, err);
    }
    try {
      await this.#query(what, 'BEGIN', [], client);
      if (fence !== undefined) {
        // the fence: the lease row must still carry our owner and token. FOR SHARE keeps a
        // concurrent acquireLease (an UPDATE of that row) waiting until this write commits.
        const held = await this.#query(
          what,
          `SELECT 1 FROM ${this.#leases}
            WHERE application = $1 AND stream = $2 AND owner = $3 AND token = $4
            FOR SHARE`,
          [this.application, this.stream, fence.owner, fence.token],
          client,
        );
        if (held.rowCount !== 1) {
          const now = await this.#readLease(client);
          throw lostError(
            this.scope,
            fence,
            now === undefined ? null : { owner: now.owner, token: Number(now.token) },
          );
        }
      }
      const result = await fn(client);
      await this.#query(what, 'COMMIT', [], client);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.#wrap(what, err);
    } finally {
      client.release();
    }
  }

  async #readLease(client?: pg.PoolClient): Promise<LeaseRow | undefined> {
    const res = await this.#query<LeaseRow>(
      'read the lease',
      `SELECT owner, token, expires_at FROM ${this.#leases} WHERE application = $1 AND stream = $2`,
      [this.application, this.stream],
      client,
    );
    return res.rows[0];
  }

  protected async doGet(shardId: string): Promise<Checkpoint | undefined> {
    await this.#migrate();
    const res = await this.#query<{
      sequence_number: string | null;
      shard_end: boolean;
      updated_at: Date;
    }>(
      'read a checkpoint',
      `SELECT sequence_number::text AS sequence_number, shard_end, updated_at FROM ${this.#cp}
        WHERE application = $1 AND stream = $2 AND shard_id = $3`,
      [this.application, this.stream, shardId],
    );
    const row = res.rows[0];
    return row === undefined
      ? undefined
      : toCheckpoint({
          sequenceNumber: row.sequence_number,
          shardEnd: row.shard_end,
          updatedAt: row.updated_at.getTime(),
        });
  }

  protected async doGetAll(): Promise<ReadonlyMap<string, Checkpoint>> {
    await this.#migrate();
    const res = await this.#query<{
      shard_id: string;
      sequence_number: string | null;
      shard_end: boolean;
      updated_at: Date;
    }>(
      'read the checkpoints',
      `SELECT shard_id, sequence_number::text AS sequence_number, shard_end, updated_at FROM ${this.#cp}
        WHERE application = $1 AND stream = $2 ORDER BY shard_id COLLATE "C"`,
      [this.application, this.stream],
    );
    const map = new Map<string, Checkpoint>();
    for (const row of res.rows) {
      map.set(
        row.shard_id,
        toCheckpoint({
          sequenceNumber: row.sequence_number,
          shardEnd: row.shard_end,
          updatedAt: row.updated_at.getTime(),
        }),
      );
    }
    return map;
  }

  protected async doPut(
    updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
    fence: Fence | undefined,
  ): Promise<void> {
    await this.#transaction('write checkpoints', fence, (client) =>
      this.#applyUpdates(client, updates),
    );
  }

  /**
   * One transaction: the fence, the checkpoint updates, then the state row with a copy of the
   * scope's checkpoints as they stand inside that transaction. Commits of one scope are
   * serialised by a transaction-level advisory lock, so the copy matches the state.
   */
  protected async doCommit(
    updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
    stateJson: string,
    fence: Fence | undefined,
  ): Promise<void> {
    await this.#transaction('commit checkpoints and state', fence, async (client) => {
      await this.#query(
        'lock the scope for a commit',
        'SELECT pg_advisory_xact_lock(hashtext($1))',
        [`connect-wfm/checkpoint-store/commit/${this.application}#${this.stream}`],
        client,
      );
      await this.#applyUpdates(client, updates);
      const rows = await this.#query<{
        shard_id: string;
        sequence_number: string | null;
        shard_end: boolean;
        updated_at: Date;
      }>(
        'read the checkpoints',
        `SELECT shard_id, sequence_number::text AS sequence_number, shard_end, updated_at FROM ${this.#cp}
          WHERE application = $1 AND stream = $2 ORDER BY shard_id COLLATE "C"`,
        [this.application, this.stream],
        client,
      );
      const checkpoints: StoredCheckpoint[] = rows.rows.map((r) => ({
        shardId: r.shard_id,
        sequenceNumber: r.sequence_number,
        shardEnd: r.shard_end,
        updatedAt: r.updated_at.toISOString(),
      }));
      await this.#query(
        'write the committed state',
        `INSERT INTO ${this.#states} AS st (application, stream, state, checkpoints, written_at)
         VALUES ($1, $2, $3, $4::jsonb, clock_timestamp())
         ON CONFLICT (application, stream) DO UPDATE SET
           state = EXCLUDED.state, checkpoints = EXCLUDED.checkpoints, written_at = EXCLUDED.written_at`,
        [this.application, this.stream, stateJson, JSON.stringify(checkpoints)],
        client,
      );
    });
  }

  protected async doGetState(): Promise<CommittedState | undefined> {
    await this.#migrate();
    const res = await this.#query<{ state: string; checkpoints: unknown; written_at: Date }>(
      'read the committed state',
      `SELECT state, checkpoints, written_at FROM ${this.#states}
        WHERE application = $1 AND stream = $2`,
      [this.application, this.stream],
    );
    const row = res.rows[0];
    if (row === undefined) return undefined;
    const where = `PostgreSQL table ${this.#states}`;
    const corrupt = () =>
      new StoreCorruptError(
        `the committed checkpoints of ${this.scope} in ${where} are malformed; commit a new state, or restore the table from a backup.`,
      );
    const shards = parseStoredCheckpoints(row.checkpoints, corrupt);
    return toCommittedState(
      this.scope,
      { state: '', shards, writtenAt: row.written_at.getTime() },
      row.state,
      where,
    );
  }

  async #applyUpdates(
    client: pg.PoolClient,
    updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
  ): Promise<void> {
    for (const [shardId, update] of updates) {
      const res = await this.#query(
        'write a checkpoint',
        `INSERT INTO ${this.#cp} AS cp (application, stream, shard_id, sequence_number, shard_end, updated_at)
           VALUES ($1, $2, $3, $4::numeric, $5, clock_timestamp())
           ON CONFLICT (application, stream, shard_id) DO UPDATE SET
             sequence_number = COALESCE(EXCLUDED.sequence_number, cp.sequence_number),
             shard_end = cp.shard_end OR EXCLUDED.shard_end,
             updated_at = EXCLUDED.updated_at
           WHERE EXCLUDED.sequence_number IS NULL
              OR cp.sequence_number IS NULL
              OR cp.sequence_number <= EXCLUDED.sequence_number`,
        [this.application, this.stream, shardId, update.sequenceNumber ?? null, update.shardEnd],
        client,
      );
      if (res.rowCount !== 1) {
        const stored = await this.#query<{ s: string }>(
          'read a checkpoint',
          `SELECT sequence_number::text AS s FROM ${this.#cp}
              WHERE application = $1 AND stream = $2 AND shard_id = $3`,
          [this.application, this.stream, shardId],
          client,
        );
        throw new CheckpointRegressionError(
          this.scope,
          shardId,
          stored.rows[0]?.s ?? '?',
          update.sequenceNumber ?? '?',
        );
      }
    }
  }

  protected async doDelete(shardId: string, fence: Fence | undefined): Promise<void> {
    await this.#transaction('delete a checkpoint', fence, async (client) => {
      await this.#query(
        'delete a checkpoint',
        `DELETE FROM ${this.#cp} WHERE application = $1 AND stream = $2 AND shard_id = $3`,
        [this.application, this.stream, shardId],
        client,
      );
    });
  }

  protected async doAcquire(owner: string, ttlMs: number): Promise<Lease> {
    await this.#migrate();
    for (let attempt = 0; ; attempt++) {
      const res = await this.#query<LeaseRow>(
        'take the lease',
        `INSERT INTO ${this.#leases} AS l (application, stream, owner, token, expires_at)
         VALUES ($1, $2, $3, 1, clock_timestamp() + make_interval(secs => $4::double precision / 1000))
         ON CONFLICT (application, stream) DO UPDATE SET
           owner = EXCLUDED.owner, token = l.token + 1, expires_at = EXCLUDED.expires_at
         WHERE l.owner IS NULL OR l.owner = EXCLUDED.owner OR l.expires_at <= clock_timestamp()
         RETURNING owner, token, expires_at`,
        [this.application, this.stream, owner, ttlMs],
      );
      const row = res.rows[0];
      if (row !== undefined) return toLease(row);
      const held = await this.#readLease();
      if (held?.owner != null) {
        throw new LeaseHeldError(this.scope, owner, held.owner, held.expires_at);
      }
      // released or expired between the two statements: try again
      if (attempt >= 3) {
        throw new BackendError(
          `could not take the lease of ${this.scope}: it kept changing; retry.`,
        );
      }
    }
  }

  protected async doRenew(fence: Fence, ttlMs: number): Promise<Lease> {
    await this.#migrate();
    const res = await this.#query<LeaseRow>(
      'renew the lease',
      `UPDATE ${this.#leases}
          SET expires_at = clock_timestamp() + make_interval(secs => $5::double precision / 1000)
        WHERE application = $1 AND stream = $2 AND owner = $3 AND token = $4
        RETURNING owner, token, expires_at`,
      [this.application, this.stream, fence.owner, fence.token, ttlMs],
    );
    const row = res.rows[0];
    if (row !== undefined) return toLease(row);
    const now = await this.#readLease();
    throw lostError(
      this.scope,
      fence,
      now === undefined ? null : { owner: now.owner, token: Number(now.token) },
    );
  }

  protected async doRelease(fence: Fence): Promise<void> {
    await this.#migrate();
    await this.#query(
      'release the lease',
      `UPDATE ${this.#leases} SET owner = NULL, expires_at = clock_timestamp()
        WHERE application = $1 AND stream = $2 AND owner = $3 AND token = $4`,
      [this.application, this.stream, fence.owner, fence.token],
    );
  }

  protected async doClose(): Promise<void> {
    if (this.#ownsPool) await this.#poolOrUndefined?.end();
  }
}
