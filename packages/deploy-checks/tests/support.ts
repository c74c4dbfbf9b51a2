import { join } from 'node:path';
import { type CfnTemplate, type CfnValue, loadTemplate } from '../src/index.js';

/** The repository root. */
export const REPO = join(import.meta.dirname, '..', '..', '..');
/** deploy/ at the repository root. */
export const DEPLOY = join(REPO, 'deploy');

export const TEMPLATE_FILES = ['historical-feed.yaml', 'rta-feed.yaml'] as const;
export type TemplateFile = (typeof TEMPLATE_FILES)[number];

const cache = new Map<string, CfnTemplate>();

/** A template under deploy/, parsed once per test file. */
export function template(file: TemplateFile): CfnTemplate {
  let found = cache.get(file);
  if (found === undefined) {
    found = loadTemplate(join(DEPLOY, file));
    cache.set(file, found);
  }
  return found;
}

/** A property of a resource, or throws naming both. */
export function prop(t: CfnTemplate, logicalId: string, name: string): CfnValue {
  const res = t.Resources[logicalId];
  if (res === undefined) throw new Error(`no resource ${logicalId}`);
  const value = res.Properties?.[name];
  if (value === undefined) throw new Error(`${logicalId} has no property ${name}`);
  return value;
}

/**
 * The RTA daemon's environment variables, as agreed between the teams (every setting:
 * apps/rta-service/README.md). The daemon refuses an unknown RTA_* variable.
 */
export const DAEMON_ENV: ReadonlySet<string> = new Set([
  'RTA_STREAM',
  'AWS_REGION',
  'RTA_KINESIS_ENDPOINT',
  'RTA_ROLE_ARN',
  'RTA_EXTERNAL_ID',
  'RTA_WFM_URL',
  'RTA_AUTH_KEY',
  'RTA_SOURCE_ID',
  'RTA_POLL_MS',
  'RTA_COLD_START_WINDOW_HOURS',
  'RTA_CHECKPOINT_INTERVAL_MS',
  'RTA_FULL_SNAPSHOT_INTERVAL_MS',
  'RTA_STORE',
  'RTA_DYNAMODB_ENDPOINT',
  'RTA_LEASE_TTL_MS',
  'RTA_HTTP_HOST',
  'RTA_HTTP_PORT',
  'RTA_LOG_LEVEL',
  'RTA_LOG_FORMAT',
]);

/** The daemon's longest drain on SIGTERM by default (RTA_SHUTDOWN_TIMEOUT_MS), in seconds. */
export const DAEMON_DRAIN_BOUND_S = 20;

/** The daemon's production bundle, relative to the repository root. */
export const RTA_BUNDLE = 'apps/rta-service/dist/connect-wfm-rta.mjs';
