export { MAX_CAUSE_DEPTH } from './chain.js';
export { REDACTED, redactSecrets, SUBSTRING_REDACTION_MIN } from './redact-secrets.js';
export { sanitizeCause } from './sanitize-cause.js';
export { AWS_DROPPED_FIELDS, stripAwsResponse } from './strip-aws-response.js';
export type { RedactOptions } from './types.js';
