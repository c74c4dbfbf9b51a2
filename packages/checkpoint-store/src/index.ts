export { compareSequenceNumbers } from './core.js';
/**
 * @deprecated import from '@connect-wfm/checkpoint-store/dynamodb'; kept here for one release.
 * Neither entry loads `@aws-sdk/client-dynamodb` before the store is used.
 */
export { DYNAMODB_SCOPE_SORT_KEY, DynamoDbCheckpointStore } from './dynamodb-store.js';
export {
  BackendError,
  CheckpointRegressionError,
  CheckpointStoreError,
  type CheckpointStoreErrorCode,
  type ConfigIssue,
  ConflictError,
  DriverMissingError,
  InvalidArgumentError,
  InvalidConfigError,
  LeaseHeldError,
  LeaseLostError,
  LockTimeoutError,
  StoreClosedError,
  StoreCorruptError,
} from './errors.js';
export { type CheckpointStoreConfig, createCheckpointStore } from './factory.js';
export { FILE_FORMAT, FILE_VERSION, FileCheckpointStore } from './file-store.js';
export { MemoryCheckpointStore, MemoryCheckpointTable } from './memory-store.js';
/**
 * @deprecated import from '@connect-wfm/checkpoint-store/postgres'; kept here for one release.
 * Neither entry loads `pg` before the store is used.
 */
export {
  POSTGRES_SCHEMA_VERSION,
  PostgresCheckpointStore,
  runPostgresMigrations,
} from './postgres-store.js';
export type * from './types.js';
