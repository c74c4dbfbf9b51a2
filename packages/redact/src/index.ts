/**
 * Deprecated: these functions now live in `@connect-wfm/core`; this entry re-exports them so that
 * existing imports keep working. Import from `@connect-wfm/core` instead.
 */
export {
  AWS_DROPPED_FIELDS,
  MAX_CAUSE_DEPTH,
  REDACTED,
  type RedactOptions,
  redactSecrets,
  SUBSTRING_REDACTION_MIN,
  sanitizeCause,
  stripAwsResponse,
} from '@connect-wfm/core';
