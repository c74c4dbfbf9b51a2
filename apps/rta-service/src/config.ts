/**
 * The daemon's configuration: environment variables plus an optional JSON/YAML file (`--config`),
 * validated with zod, every problem reported at once. The one place that reads the environment.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { extname } from 'node:path';
import type { ConfigProblem } from '@connect-wfm/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Exit code for a configuration error (sysexits.h `EX_CONFIG`). */
export const EX_CONFIG = 78;

/** Every setting: environment variable, file key, default (undefined = required or optional). */
export const SETTINGS = {
  stream: { env: 'RTA_STREAM', help: 'Kinesis stream name or ARN (required)' },
  region: {
    env: 'AWS_REGION',
    help: "AWS region (default: the stream ARN's, then AWS_DEFAULT_REGION)",
  },
  kinesisEndpoint: {
    env: 'RTA_KINESIS_ENDPOINT',
    help: 'Kinesis endpoint URL (local testing only)',
  },
  roleArn: { env: 'RTA_ROLE_ARN', help: 'IAM role to assume for reading the stream' },
  externalId: { env: 'RTA_EXTERNAL_ID', help: 'external ID for the role (with RTA_ROLE_ARN)' },
  wfmUrl: { env: 'RTA_WFM_URL', help: 'Teleopti WFM base URL (required)' },
  authKey: { env: 'RTA_AUTH_KEY', help: 'Teleopti RTA authentication key (required, secret)' },
  sourceId: { env: 'RTA_SOURCE_ID', help: 'Teleopti RTA source id (required)' },
  pollMs: { env: 'RTA_POLL_MS', help: 'poll interval in ms (default 5000)' },
  coldStartWindowHours: {
    env: 'RTA_COLD_START_WINDOW_HOURS',
    help: 'hours read back on a cold start (default 24)',
  },
  readBudgetRecords: {
    env: 'RTA_READ_BUDGET_RECORDS',
    help: 'records read ahead for all shards together; each GetRecords asks for this ÷ shards, at most 1000 (default 10000)',
  },
  heapGrowingPercent: {
    env: 'RTA_HEAP_GROWING_PERCENT',
    help: "V8 old-generation growth over the live size, in % (default 20; 0 = V8's own)",
  },
  checkpointIntervalMs: {
    env: 'RTA_CHECKPOINT_INTERVAL_MS',
    help: 'commit interval in ms (default 600000)',
  },
  fullSnapshotIntervalMs: {
    env: 'RTA_FULL_SNAPSHOT_INTERVAL_MS',
    help: 'periodic full snapshot in ms (default 0 = off)',
  },
  store: {
    env: 'RTA_STORE',
    help: 'file:/path | dynamodb:<table> | postgres://... (default file:connect-wfm-rta-state.json)',
  },
  dynamodbEndpoint: { env: 'RTA_DYNAMODB_ENDPOINT', help: 'DynamoDB endpoint URL (local only)' },
  leaseTtlMs: { env: 'RTA_LEASE_TTL_MS', help: 'leader lease TTL in ms (default 30000)' },
  instanceId: {
    env: 'RTA_INSTANCE_ID',
    help: 'lease owner name, unique per instance (default <hostname>:<pid>)',
  },
  httpHost: { env: 'RTA_HTTP_HOST', help: 'operator HTTP host (default 127.0.0.1)' },
  httpPort: { env: 'RTA_HTTP_PORT', help: 'operator HTTP port (default 9464; 0 = any free port)' },
  logLevel: { env: 'RTA_LOG_LEVEL', help: 'trace|debug|info|warn|error|fatal (default info)' },
  logFormat: { env: 'RTA_LOG_FORMAT', help: 'json | pretty (default json)' },
  postDeadlineMs: {
    env: 'RTA_POST_DEADLINE_MS',
    help: 'give up one POST (with its retries) after this, re-collapse on the next poll (default 15000)',
  },
  shutdownTimeoutMs: {
    env: 'RTA_SHUTDOWN_TIMEOUT_MS',
    help: 'longest drain on SIGTERM/SIGINT in ms (default 20000)',
  },
  stateMode: { env: 'RTA_STATE_MODE', help: 'contact-aware | status-only (default contact-aware)' },
  includeChannel: {
    env: 'RTA_INCLUDE_CHANNEL',
    help: 'contact codes carry the channel, OnContact:VOICE (default false)',
  },
  loggedOutStateCode: {
    env: 'RTA_LOGGED_OUT_STATE_CODE',
    help: 'state code sent for logged-out agents (default LOGGED-OFF)',
  },
} as const;

export type SettingKey = keyof typeof SETTINGS;

const STORE_PATTERN = /^(?:file:.+|dynamodb:[a-zA-Z0-9_.-]{3,255}|postgres(?:ql)?:\/\/.+)$/;

function intFrom(min: number, max: number) {
  return z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : v),
    z
      .number({ error: 'must be a whole number' })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` }),
  );
}

const bool = z.preprocess(
  (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
  z.boolean({ error: 'must be true or false' }),
);

const url = z.url({ error: 'must be an http(s) URL' }).refine((s) => /^https?:\/\//i.test(s), {
  error: 'must be an http(s) URL',
});

const nonBlank = z.string().trim().min(1, { error: 'must not be empty' });

const schema = z
  .strictObject({
    stream: nonBlank,
    region: nonBlank.optional(),
    kinesisEndpoint: url.optional(),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, {
        error: 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
      })
      .optional(),
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, {
        error: 'must be 2-1224 characters of letters, digits and +=,.@:/-',
      })
      .optional(),
    wfmUrl: url,
    authKey: z.string().min(1, { error: 'must not be empty' }),
    sourceId: nonBlank,
    pollMs: intFrom(100, 3_600_000).default(5000),
    coldStartWindowHours: intFrom(1, 8760).default(24),
    readBudgetRecords: intFrom(100, 10_000_000).default(10_000),
    heapGrowingPercent: intFrom(0, 1000).default(20),
    checkpointIntervalMs: intFrom(100, 86_400_000).default(600_000),
    fullSnapshotIntervalMs: intFrom(0, 7 * 86_400_000).default(0),
    store: z
      .string()
      .regex(STORE_PATTERN, {
        error: 'must be file:<path>, dynamodb:<table> or postgres://<connection string>',
      })
      .default('file:connect-wfm-rta-state.json'),
    dynamodbEndpoint: url.optional(),
    leaseTtlMs: intFrom(1000, 3_600_000).default(30_000),
    instanceId: nonBlank.max(200).default(`${hostname()}:${process.pid}`),
    httpHost: nonBlank.default('127.0.0.1'),
    httpPort: intFrom(0, 65535).default(9464),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
        error: 'must be trace, debug, info, warn, error, fatal or silent',
      })
      .default('info'),
    logFormat: z.enum(['json', 'pretty'], { error: 'must be json or pretty' }).default('json'),
    postDeadlineMs: intFrom(100, 600_000).default(15_000),
    shutdownTimeoutMs: intFrom(100, 600_000).default(20_000),
    stateMode: z
      .enum(['contact-aware', 'status-only'], { error: 'must be contact-aware or status-only' })
      .default('contact-aware'),
    includeChannel: bool.default(false),
    loggedOutStateCode: z.string().min(1).max(300).default('LOGGED-OFF'),
  })
  .superRefine((c, ctx) => {
    if (c.fullSnapshotIntervalMs !== 0 && c.fullSnapshotIntervalMs < c.pollMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['fullSnapshotIntervalMs'],
        message: 'must be 0 (off) or at least pollMs',
      });
    }
  });

/** The validated configuration. */
export type RtaServiceConfig = z.infer<typeof schema> & { readonly region: string };

/** One configuration problem (core's shape); `path` names where the value came from: `RTA_POLL_MS (pollMs)`, or the file key with the file name. */
export type { ConfigProblem };

/** Raised by {@link loadConfig}: every problem found. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const ENV_TO_KEY = new Map<string, SettingKey>(
  (Object.entries(SETTINGS) as [SettingKey, { env: string }][]).map(([k, v]) => [v.env, k]),
);

function readFileConfig(path: string, problems: ConfigProblem[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    problems.push({
      path: `--config ${path}`,
      message: `cannot be read (${typeof code === 'string' ? code : 'error'})`,
    });
    return {};
  }
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    // Never quote the file: it may hold the authentication key.
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    problems.push({
      path: `--config ${path}`,
      message: `is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}${line === undefined ? '' : ` (line ${line})`}`,
    });
    return {};
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ path: `--config ${path}`, message: 'must hold one object of settings' });
    return {};
  }
  return value as Record<string, unknown>;
}

/** Checks between settings, run even when single settings are wrong (every problem at once). */
function crossChecks(raw: Record<string, unknown>, origin: Map<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const name = (key: SettingKey) => origin.get(key) ?? `${SETTINGS[key].env} (${key})`;
  const stream = typeof raw.stream === 'string' ? raw.stream.trim() : undefined;
  const region = typeof raw.region === 'string' ? raw.region.trim() : undefined;
  if (raw.externalId !== undefined && raw.roleArn === undefined) {
    problems.push({
      path: name('externalId'),
      message: 'is only used with RTA_ROLE_ARN (roleArn): set both or neither',
    });
  }
  if (stream === undefined || stream === '') return problems;
  const arnRegion = /^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):\d{12}:stream\/.+$/.exec(stream)?.[1];
  if (stream.startsWith('arn:') && arnRegion === undefined) {
    problems.push({
      path: name('stream'),
      message: 'is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)',
    });
  }
  if (!stream.startsWith('arn:') && (region === undefined || region === '')) {
    problems.push({
      path: name('region'),
      message: 'is required (AWS_REGION) unless the stream is given as an ARN',
    });
  }
  if (arnRegion !== undefined && region !== undefined && region !== '' && region !== arnRegion) {
    problems.push({
      path: name('region'),
      message: `is ${region} but the stream ARN is in ${arnRegion}`,
    });
  }
  return problems;
}

/**
 * Reads the configuration from the environment and an optional file (the file's values win).
 * Throws {@link ConfigError} listing every problem (unknown `RTA_*` variables and unknown file
 * keys included). Never puts a value in a message.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
): RtaServiceConfig {
  const problems: ConfigProblem[] = [];
  const raw: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    const key = ENV_TO_KEY.get(name);
    if (key !== undefined) {
      raw[key] = value;
      origin.set(key, `${name} (${key})`);
    } else if (name.startsWith('RTA_')) {
      problems.push({ path: name, message: 'is not a setting of connect-wfm-rta (a typo?)' });
    }
  }
  if (raw.region === undefined && env.AWS_DEFAULT_REGION) {
    raw.region = env.AWS_DEFAULT_REGION;
    origin.set('region', 'AWS_DEFAULT_REGION (region)');
  }
  if (configFile !== undefined) {
    const fromFile = readFileConfig(configFile, problems);
    for (const [key, value] of Object.entries(fromFile)) {
      raw[key] = value;
      origin.set(key, `${key} in ${configFile}`);
    }
  }
  const parsed = schema.safeParse(raw);
  problems.push(...crossChecks(raw, origin));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0];
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) {
          problems.push({
            path: `${k}${configFile === undefined ? '' : ` in ${configFile}`}`,
            message: 'is not a setting of connect-wfm-rta (a typo?)',
          });
        }
        continue;
      }
      const name =
        typeof key === 'string'
          ? (origin.get(key) ?? `${SETTINGS[key as SettingKey]?.env ?? key} (${key})`)
          : '(config)';
      const message =
        issue.code === 'invalid_type' && typeof key === 'string' && raw[key] === undefined
          ? 'is required'
          : issue.message;
      problems.push({ path: name, message });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = parsed.data;
  const arnRegion = /^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):/.exec(config.stream)?.[1];
  return { ...config, region: config.region ?? arnRegion ?? '' };
}

/** The configuration with secrets masked, for `--check-config` and the start log line. */
export function describeConfig(config: RtaServiceConfig): Record<string, unknown> {
  return {
    ...config,
    authKey: '(set, not shown)',
    store: config.store.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, '$1***@'),
  };
}

/** `--help` text: usage and every setting. */
export function helpText(): string {
  const rows = (Object.entries(SETTINGS) as [SettingKey, { env: string; help: string }][]).map(
    ([key, s]) => `  ${s.env.padEnd(31)} ${key.padEnd(23)} ${s.help}`,
  );
  return [
    'Usage: connect-wfm-rta [--config FILE] [--check-config] [--help]',
    '',
    'Reads Amazon Connect agent events from a Kinesis stream and posts agent states to Teleopti RTA.',
    '',
    '  --config FILE     JSON or YAML file with the settings below (camelCase keys; they win over the environment)',
    '  --check-config    validate the configuration, print it (secrets masked) and exit (0, or 78 on problems)',
    '  --help            this text',
    '',
    'Settings (environment variable, file key, meaning):',
    ...rows,
    '',
    'AWS credentials: the default provider chain (environment, shared files, container/instance role).',
    'Exit codes: 0 after a drain on SIGTERM/SIGINT; 78 on a configuration problem (at start, or a key/source the WFM refuses); 1 on other fatal errors.',
    'Docs: apps/rta-service/README.md and docs/operations/rta-feed.md',
  ].join('\n');
}
