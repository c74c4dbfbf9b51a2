/**
 * @connect-wfm/historical-feed: the historical feed's engine. Parses the queue's messages,
 * classifies S3 objects, streams them (decrypted, converted) to SFTP exactly once per object,
 * quarantines bad bytes, and drains the queue.
 */
export { classifyByKey, sniffObjectKind } from './classify.js';
export {
  HistoricalFeedError,
  type HistoricalFeedErrorCode,
  HistoricalFeedOptionsError,
} from './errors.js';
export { HistoricalFeed } from './feed.js';
export { decodeS3Key, parseQueueMessage } from './messages.js';
export {
  type DrainOptions,
  type DrainResult,
  drainQueue,
  processSqsBatch,
  type SqsBatchOptions,
  type SqsBatchResponse,
  type SqsRecordLike,
} from './queue.js';
export type * from './types.js';
