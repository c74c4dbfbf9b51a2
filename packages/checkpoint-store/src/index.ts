export { compareSequenceNumbers } from './core.js';
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
  LockLostError,
  LockTimeoutError,
  StoreClosedError,
  StoreCorruptError,
} from './errors.js';
export {
  type CheckpointStoreConfig,
  createCheckpointStore,
  type DynamoDbClientLike,
  type PgPoolLike,
} from './factory.js';
export { FILE_FORMAT, FILE_VERSION, FileCheckpointStore } from './file-store.js';
export { MemoryCheckpointStore, MemoryCheckpointTable } from './memory-store.js';
export type * from './types.js';
