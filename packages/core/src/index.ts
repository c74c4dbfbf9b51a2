export {
  type BackoffJitter,
  type BackoffPolicy,
  backoffDelay,
  DEFAULT_BACKOFF,
  type ResolvedBackoffPolicy,
  sleep,
} from './backoff.js';
export {
  type ConfigProblem,
  configProblemsFrom,
  formatConfigProblems,
  formatPath,
  type IssueListLike,
} from './config.js';
export {
  compareSequenceNumbers,
  isSequenceNumber,
  MAX_STATE_CODE_LENGTH,
  SEQUENCE_NUMBER_PATTERN,
  SHARD_ID_PATTERN,
} from './constants.js';
export { ConnectWfmError, type ConnectWfmErrorOptions, isConnectWfmError } from './errors.js';
export { type LogContext, type Logger, silentLogger } from './logger.js';
export { MAX_CAUSE_DEPTH } from './redact/chain.js';
export { REDACTED, redactSecrets, SUBSTRING_REDACTION_MIN } from './redact/redact-secrets.js';
export { sanitizeCause } from './redact/sanitize-cause.js';
export { AWS_DROPPED_FIELDS, stripAwsResponse } from './redact/strip-aws-response.js';
export type { RedactOptions } from './redact/types.js';
