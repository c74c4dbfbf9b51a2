/**
 * How the reader reacts to an error from a Kinesis call.
 * - `throttle`: back off with jitter, then try again;
 * - `expired-iterator`: get a new iterator after the last sequence number read;
 * - `transient`: network error, timeout or 5xx: back off and try again;
 * - `not-found`: the stream or shard does not exist;
 * - `invalid-argument`: Kinesis refused an argument (for example an expired checkpoint);
 * - `aborted`: the reader is stopping;
 * - `fatal`: anything else (access denied, KMS key disabled, ...).
 */
export type ErrorKind =
  | 'throttle'
  | 'expired-iterator'
  | 'transient'
  | 'not-found'
  | 'invalid-argument'
  | 'aborted'
  | 'fatal';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'KMSThrottlingException',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
]);

const TRANSIENT = new Set([
  'InternalFailure',
  'InternalFailureException',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'KMSInternalException',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * Classifies an error thrown by a Kinesis call.
 *
 * @example
 * classifyError(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} })); // 'throttle'
 */
export function classifyError(error: unknown): ErrorKind {
  if (typeof error !== 'object' || error === null) return 'fatal';
  const e = error as ErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : 0;
  if (name === 'AbortError') return 'aborted';
  if (THROTTLING.has(name) || status === 429) return 'throttle';
  if (name === 'ExpiredIteratorException') return 'expired-iterator';
  if (name === 'ResourceNotFoundException') return 'not-found';
  if (name === 'InvalidArgumentException') return 'invalid-argument';
  if (TRANSIENT.has(name) || NETWORK_CODES.has(code) || status >= 500) return 'transient';
  if (
    status === 0 &&
    (NETWORK_CODES.has(name) || /socket hang up|ECONNRESET/i.test(String(e.message)))
  ) {
    return 'transient';
  }
  return 'fatal';
}
