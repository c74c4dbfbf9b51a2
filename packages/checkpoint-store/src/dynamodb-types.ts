/**
 * Options of the DynamoDB backend. Kept out of types.ts so that the root entry's declarations
 * never mention `@aws-sdk/client-dynamodb` (issue 18: no package imports a module it does not use).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CheckpointStoreBaseOptions } from './types.js';

/** Options of `DynamoDbCheckpointStore`. */
export interface DynamoDbCheckpointStoreOptions extends CheckpointStoreBaseOptions {
  /**
   * The DynamoDB client to use (region, credentials, endpoint and retries are yours to set).
   * Without it, the store creates one on first use (default credential chain, `region` and
   * `endpoint` below) and destroys it in `close()`.
   */
  readonly client?: DynamoDBClient | undefined;
  /** Region of the client the store creates (not with `client`). @default the SDK's (AWS_REGION) */
  readonly region?: string | undefined;
  /** Endpoint of the client the store creates, e.g. dynalite's (not with `client`). */
  readonly endpoint?: string | undefined;
  /** Destroy `client` in `close()` (when the store is its only user). @default false */
  readonly destroyClientOnClose?: boolean | undefined;
  /** Table name (3–255 characters of `[a-zA-Z0-9_.-]`). */
  readonly tableName: string;
  /**
   * Create the table (`pk` S hash key, `sk` S range key, PAY_PER_REQUEST) on first use when it
   * does not exist, and wait until it is ACTIVE. With `false`, a missing table is an error.
   * @default true
   */
  readonly createTable?: boolean | undefined;
  /** How long to wait for a created table to become ACTIVE, in ms. @default 60000 */
  readonly tableActiveTimeoutMs?: number | undefined;
  /**
   * How many times an optimistic write is retried when another writer changed the item
   * between the read and the conditional write, before `ConflictError`.
   * @default 50
   */
  readonly maxConflictRetries?: number | undefined;
  /** Clock used for lease expiry, in epoch milliseconds. @default Date.now */
  readonly clock?: (() => number) | undefined;
}
