import { cloneScope, emptyScope, type ScopeState, StateCheckpointStore } from './core.js';
import type { MemoryCheckpointStoreOptions } from './types.js';

/**
 * The data behind one or more {@link MemoryCheckpointStore}s. Stores given the same table see
 * each other's checkpoints and leases, like processes sharing one DynamoDB table.
 *
 * @example
 * const table = new MemoryCheckpointTable();
 * const a = new MemoryCheckpointStore({ application: 'rta', stream: 'agents', table });
 * const b = new MemoryCheckpointStore({ application: 'rta', stream: 'agents', table });
 */
export class MemoryCheckpointTable {
  /** Brand, so that only tables made by this class are accepted. */
  readonly kind = 'memory-checkpoint-table' as const;
}

/** The data of each table, kept out of the public class. */
const tables = new WeakMap<MemoryCheckpointTable, Map<string, ScopeState>>();

function scopesOf(table: MemoryCheckpointTable): Map<string, ScopeState> {
  let scopes = tables.get(table);
  if (scopes === undefined) {
    scopes = new Map();
    tables.set(table, scopes);
  }
  return scopes;
}

function load(table: MemoryCheckpointTable, key: string): ScopeState {
  const state = scopesOf(table).get(key);
  return state === undefined ? emptyScope() : cloneScope(state);
}

/**
 * In-memory checkpoint store with the full semantics of the durable backends (never-regress,
 * SHARD_END, leader lease with fencing). Nothing survives the process: use it in tests, or as
 * the baseline in benchmarks.
 *
 * @example
 * import { MemoryCheckpointStore } from '@connect-wfm/checkpoint-store';
 *
 * const store = new MemoryCheckpointStore({ application: 'rta', stream: 'agent-events' });
 * await store.put('shardId-000000000000', { sequenceNumber: '49590338271490256608559692538361571095921575989136588898' });
 * const cp = await store.get('shardId-000000000000');
 */
export class MemoryCheckpointStore extends StateCheckpointStore {
  readonly #table: MemoryCheckpointTable;
  readonly #key: string;

  constructor(options: MemoryCheckpointStoreOptions) {
    super(options);
    this.#table = options.table ?? new MemoryCheckpointTable();
    this.#key = JSON.stringify([options.application, options.stream]);
  }

  protected async readState(): Promise<ScopeState> {
    await Promise.resolve();
    return load(this.#table, this.#key);
  }

  protected async transact<T>(
    fn: (state: ScopeState, now: number) => { result: T; changed: boolean },
  ): Promise<T> {
    await Promise.resolve();
    // Synchronous from here to save(): nothing can interleave, so this is atomic.
    const state = load(this.#table, this.#key);
    const { result, changed } = fn(state, this.clock());
    if (changed) scopesOf(this.#table).set(this.#key, cloneScope(state));
    return result;
  }

  protected describeBackend(): string {
    return 'a memory table';
  }

  protected async doClose(): Promise<void> {}
}
