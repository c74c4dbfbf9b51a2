export { compareSequenceNumbers } from './core.js';
export { DYNAMODB_SCOPE_SORT_KEY, DynamoDbCheckpointStore } from './dynamodb-store.js';
export {
  BackendError,
  CheckpointRegressionError,
  CheckpointStoreError,
  type CheckpointStoreErrorCode,
  type ConfigIssue,
  ConflictError,
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
export {
  POSTGRES_SCHEMA_VERSION,
  PostgresCheckpointStore,
  runPostgresMigrations,
} from './postgres-store.js';
export type * from './types.js';
