export {
  CheckpointExpiredError,
  CheckpointFailedError,
  InvalidOptionsError,
  KinesisShardReaderError,
  type KinesisShardReaderErrorCode,
  type OptionIssue,
  ReaderStateError,
  ReadFailedError,
  StreamNotFoundError,
} from './errors.js';
export { KinesisShardReader } from './reader.js';
export { compareSequenceNumbers, isSequenceNumber } from './sequence.js';
export { parseStreamRef, type StreamRef } from './stream-ref.js';
export type * from './types.js';
