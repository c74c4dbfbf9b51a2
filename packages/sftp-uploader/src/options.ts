import { createRequire } from 'node:module';
import {
  type ConfigProblem,
  configProblemsFrom,
  formatConfigProblems,
  type Logger,
  type ResolvedBackoffPolicy,
} from '@connect-wfm/core';
import { z } from 'zod';
import { SftpConfigError } from './errors.js';
import { normalizeFingerprint } from './fingerprint.js';
import { fileNameProblem } from './paths.js';
import { controlCharacterProblem, quoted } from './text.js';
import type { SftpUploaderOptions } from './types.js';

/** A retry policy with every field resolved. */
export interface ResolvedRetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: ResolvedBackoffPolicy;
}

const logFn = z.custom<(message: string, context?: Record<string, unknown>) => void>(
  (v) => typeof v === 'function',
  { message: 'expected a function' },
);

/** Largest delay Node timers accept; larger values silently become 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const timerMs = () =>
  z
    .number()
    .int()
    .max(MAX_TIMER_MS, { message: `must be at most ${MAX_TIMER_MS} ms (about 24.8 days)` });

interface Ssh2Algorithms {
  SUPPORTED_CIPHER?: readonly string[];
  SUPPORTED_KEX?: readonly string[];
  SUPPORTED_MAC?: readonly string[];
  SUPPORTED_SERVER_HOST_KEY?: readonly string[];
}

/** ssh2's own lists of the algorithms it implements (on this Node.js build). */
function ssh2Algorithms(): Ssh2Algorithms {
  try {
    return createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Ssh2Algorithms;
  } catch {
    return {}; // an ssh2 layout we do not know: ssh2 itself refuses unknown names when connecting
  }
}

const SSH2 = ssh2Algorithms();

/** A list of algorithm names, each of which ssh2 must support. */
const algorithmList = (supported: readonly string[] | undefined) =>
  z
    .array(z.string().min(1))
    .min(1)
    .superRefine((names, ctx) => {
      if (supported === undefined) return;
      const unknown = names.filter((n) => !supported.includes(n));
      if (unknown.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `not supported by ssh2: ${unknown.map((n) => JSON.stringify(n)).join(', ')} (supported: ${supported.join(', ')})`,
        });
      }
    });

const schema = z
  .strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).optional(),
    username: z.string().min(1),
    password: z.string().optional(),
    privateKey: z.union([z.string().min(1), z.instanceof(Buffer)]).optional(),
    passphrase: z.string().optional(),
    hostKeySha256: z
      .string()
      .refine((v) => normalizeFingerprint(v) !== undefined, {
        message: 'expected "SHA256:" followed by 43 base64 characters, as `ssh-keygen -lf` prints',
      })
      .optional(),
    remoteDir: z
      .string()
      .refine((v) => !v.includes('\0'), { message: 'must not contain NUL' })
      .superRefine((v, ctx) => {
        const problem = controlCharacterProblem(v);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `refused: ${problem}` });
      })
      .refine((v) => !v.split('/').includes('..'), { message: 'must not contain ".."' })
      .optional(),
    createDirectories: z.boolean().optional(),
    fileMode: z.number().int().min(0).max(0o7777).optional(),
    connectTimeoutMs: timerMs().positive().optional(),
    operationTimeoutMs: timerMs().positive().optional(),
    keepaliveIntervalMs: timerMs().min(0).optional(),
    retry: z
      .strictObject({
        maxAttempts: z.number().int().min(1).max(100).optional(),
        baseMs: z.number().min(0).max(MAX_TIMER_MS).optional(),
        maxMs: z.number().min(0).max(MAX_TIMER_MS).optional(),
        jitter: z.enum(['full', 'equal', 'none']).optional(),
        baseDelayMs: z.number().min(0).max(MAX_TIMER_MS).optional(),
        maxDelayMs: z.number().min(0).max(MAX_TIMER_MS).optional(),
      })
      // `when`: checked even when another retry field is invalid (every problem at once).
      .refine(
        (r) =>
          typeof r !== 'object' ||
          r === null ||
          r.baseMs === undefined ||
          r.baseDelayMs === undefined,
        {
          message: 'give baseMs or its old name baseDelayMs, not both',
          path: ['baseDelayMs'],
          when: () => true,
        },
      )
      .refine(
        (r) =>
          typeof r !== 'object' ||
          r === null ||
          r.maxMs === undefined ||
          r.maxDelayMs === undefined,
        {
          message: 'give maxMs or its old name maxDelayMs, not both',
          path: ['maxDelayMs'],
          when: () => true,
        },
      )
      .optional(),
    chunkSize: z
      .number()
      .int()
      .min(1024)
      .max(4 * 1024 * 1024)
      .optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
    ciphers: algorithmList(SSH2.SUPPORTED_CIPHER).optional(),
    kexAlgorithms: algorithmList(SSH2.SUPPORTED_KEX).optional(),
    macs: algorithmList(SSH2.SUPPORTED_MAC).optional(),
    hostKeyAlgorithms: algorithmList(SSH2.SUPPORTED_SERVER_HOST_KEY).optional(),
    logger: z.looseObject({ debug: logFn, info: logFn, warn: logFn, error: logFn }).optional(),
  })
  .refine((o) => o.password !== undefined || o.privateKey !== undefined, {
    message: 'give a password, a privateKey or both',
    path: ['password'],
  });

/** Options with every default applied. */
export interface ResolvedOptions {
  host: string;
  port: number;
  username: string;
  password: string | undefined;
  privateKey: string | Buffer | undefined;
  passphrase: string | undefined;
  hostKeySha256: string | undefined;
  remoteDir: string;
  createDirectories: boolean;
  fileMode: number;
  connectTimeoutMs: number;
  operationTimeoutMs: number;
  keepaliveIntervalMs: number;
  retry: ResolvedRetryPolicy;
  chunkSize: number;
  concurrency: number;
  ciphers: readonly string[] | undefined;
  kexAlgorithms: readonly string[] | undefined;
  macs: readonly string[] | undefined;
  hostKeyAlgorithms: readonly string[] | undefined;
  logger: Logger | undefined;
}

/**
 * Validates options (every problem reported at once, values never echoed) and applies the
 * defaults.
 */
export function resolveOptions(options: SftpUploaderOptions): ResolvedOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const problems = configProblemsFrom(parsed.error);
    throw new SftpConfigError(
      'INVALID_OPTIONS',
      `Invalid SftpUploader options: ${formatConfigProblems(problems)}. Fix the options and create the uploader again.`,
      { problems },
    );
  }
  const o = parsed.data;
  const remoteDir = o.remoteDir ?? '.';
  return {
    host: o.host,
    port: o.port ?? 22,
    username: o.username,
    password: o.password,
    privateKey: o.privateKey,
    passphrase: o.passphrase,
    hostKeySha256:
      o.hostKeySha256 === undefined ? undefined : normalizeFingerprint(o.hostKeySha256),
    remoteDir: remoteDir === '' ? '.' : remoteDir,
    createDirectories: o.createDirectories ?? true,
    fileMode: o.fileMode ?? 0o644,
    connectTimeoutMs: o.connectTimeoutMs ?? 20_000,
    operationTimeoutMs: o.operationTimeoutMs ?? 30_000,
    keepaliveIntervalMs: o.keepaliveIntervalMs ?? 10_000,
    retry: {
      maxAttempts: o.retry?.maxAttempts ?? 5,
      backoff: {
        baseMs: o.retry?.baseMs ?? o.retry?.baseDelayMs ?? 250,
        maxMs: o.retry?.maxMs ?? o.retry?.maxDelayMs ?? 10_000,
        jitter: o.retry?.jitter ?? 'equal',
      },
    },
    chunkSize: o.chunkSize ?? 261_120,
    concurrency: o.concurrency ?? 8,
    ciphers: o.ciphers,
    kexAlgorithms: o.kexAlgorithms,
    macs: o.macs,
    hostKeyAlgorithms: o.hostKeyAlgorithms,
    logger: options.logger,
  };
}

/** Throws `INVALID_FILE_NAME` when a file name cannot be used. */
export function checkFileName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    const problems: ConfigProblem[] = [{ path: 'name', message: 'must be a string' }];
    throw new SftpConfigError('INVALID_FILE_NAME', 'File name must be a string.', { problems });
  }
  const problem = fileNameProblem(name);
  if (problem !== undefined) {
    throw new SftpConfigError(
      'INVALID_FILE_NAME',
      `Cannot upload ${quoted(name)}: the file name is refused because ${problem}. Use a relative name such as "reports/2024-01-01.csv".`,
      { file: name, problems: [{ path: 'name', message: `refused because ${problem}` }] },
    );
  }
}
