import {
  type ConfigProblem,
  ConnectWfmError,
  configProblemsFrom,
  formatConfigProblems,
} from '@connect-wfm/core';
import { z } from 'zod';

/**
 * The Lambda's configuration, read from environment variables once per container (cold start)
 * and validated with zod; every problem is reported at once. The variables are the contract the
 * CloudFormation template fills in (README "Configuration").
 */

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const envSchema = z.object({
  SFTP_HOST: z.string({ error: 'is required (the WFM SFTP server host name)' }).min(1),
  SFTP_PORT: int(1, 65535).default(22),
  SFTP_USERNAME: z.string({ error: 'is required' }).min(1),
  SFTP_HOST_KEY: z
    .string({ error: 'is required: the pinned host key fingerprint, SHA256:<base64>' })
    .regex(
      /^SHA256:[A-Za-z0-9+/]{43}=?$/,
      'must be a fingerprint as ssh-keygen -lf prints it: SHA256:<base64>',
    ),
  SFTP_REMOTE_DIR: z.string().min(1).default('.'),
  SFTP_SECRET_ID: z.string().min(1).optional(),
  SFTP_SECRET_PARAMETER: z.string().min(1).optional(),
  SFTP_MAX_ATTEMPTS: int(1, 10).default(3),
  SFTP_CONNECT_TIMEOUT_MS: int(1000, 120000).default(15000),
  QUEUE_URL: z.url().optional(),
  CTR_PREFIX: z.string().default('ctr/'),
  REPORT_PREFIX: z.string().default('reports/'),
  QUARANTINE_PREFIX: z.string().min(1).default('quarantine/'),
  SNIFF_CONTENT: bool.default(true),
  REPORT_MODE: z.enum(['passthrough', 'mapped']).default('passthrough'),
  STATS_OUTPUTS: z.enum(['none', 'queue', 'agent-queue', 'both']).default('none'),
  STATS_INTERVAL_MINUTES: z
    .enum(['15', '30', '60'])
    .transform((v) => Number(v) as 15 | 30 | 60)
    .default(15),
  DELIVERED_TAG: z.string().min(1).max(128).default('connect-wfm-delivered'),
  KMS_KEY_ID: z.string().min(1).optional(),
  READ_AHEAD_BYTES: int(0, 64 * 1024 * 1024).default(8 * 1024 * 1024),
  BATCH_RESERVE_MS: int(0, 900000).default(10000),
  DRAIN_RESERVE_MS: int(0, 900000).default(60000),
  DRAIN_VISIBILITY_TIMEOUT_SECONDS: int(1, 43200).default(120),
  LOG_LEVEL: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL']))
    .default('INFO'),
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default('connect-wfm-historical'),
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).default('ConnectWfm'),
  S3_FORCE_PATH_STYLE: bool.default(false),
});

/**
 * Checks across variables, run on the raw environment even when single values are invalid, so
 * that every problem is reported at once.
 */
function crossProblems(env: Readonly<Record<string, string>>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const secrets = [env.SFTP_SECRET_ID, env.SFTP_SECRET_PARAMETER].filter((v) => v !== undefined);
  if (secrets.length !== 1) {
    problems.push({
      path: 'SFTP_SECRET_ID',
      message:
        secrets.length === 0
          ? 'give SFTP_SECRET_ID (Secrets Manager) or SFTP_SECRET_PARAMETER (SSM SecureString)'
          : 'give only one of SFTP_SECRET_ID and SFTP_SECRET_PARAMETER',
    });
  }
  const quarantine = env.QUARANTINE_PREFIX ?? 'quarantine/';
  for (const [name, prefix] of [
    ['CTR_PREFIX', env.CTR_PREFIX ?? 'ctr/'],
    ['REPORT_PREFIX', env.REPORT_PREFIX ?? 'reports/'],
  ] as const) {
    if (prefix !== '' && quarantine.startsWith(prefix)) {
      problems.push({
        path: 'QUARANTINE_PREFIX',
        message: `must not lie under ${name} ("${prefix}")`,
      });
    }
  }
  return problems;
}

/** The validated configuration. */
export type LambdaConfig = z.output<typeof envSchema>;

/** Thrown at cold start when the environment is invalid; lists every problem. */
export class ConfigError extends ConnectWfmError<'INVALID_CONFIG'> {
  /** Every problem found. */
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(
      'INVALID_CONFIG',
      `invalid historical-lambda configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${formatConfigProblems(problems)}`,
    );
    this.problems = problems;
  }
}

/**
 * Reads and validates the configuration from an environment (empty strings count as unset).
 *
 * @throws {@link ConfigError} listing every problem.
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): LambdaConfig {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = envSchema.safeParse(cleaned);
  const problems = [
    ...(parsed.success ? [] : configProblemsFrom(parsed.error)),
    ...crossProblems(cleaned),
  ];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}
