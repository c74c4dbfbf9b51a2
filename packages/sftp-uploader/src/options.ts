import { z } from 'zod';
import { SftpConfigError } from './errors.js';
import { normalizeFingerprint } from './fingerprint.js';
import { fileNameProblem } from './paths.js';
import type { ResolvedRetryPolicy } from './retry.js';
import type { SftpLogger, SftpUploaderOptions } from './types.js';

const logFn = z.custom<(message: string, context?: Record<string, unknown>) => void>(
  (v) => typeof v === 'function',
  { message: 'expected a function' },
);

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
      .optional(),
    createDirectories: z.boolean().optional(),
    fileMode: z.number().int().min(0).max(0o7777).optional(),
    connectTimeoutMs: z.number().int().positive().optional(),
    operationTimeoutMs: z.number().int().positive().optional(),
    keepaliveIntervalMs: z.number().int().min(0).optional(),
    retry: z
      .strictObject({
        maxAttempts: z.number().int().min(1).max(100).optional(),
        baseDelayMs: z.number().min(0).optional(),
        maxDelayMs: z.number().min(0).optional(),
      })
      .optional(),
    chunkSize: z
      .number()
      .int()
      .min(1024)
      .max(4 * 1024 * 1024)
      .optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
    ciphers: z.array(z.string().min(1)).min(1).optional(),
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
  logger: SftpLogger | undefined;
}

const noop = () => {};

/** A logger that drops everything. */
export const silentLogger: SftpLogger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * Validates options (every problem reported at once, values never echoed) and applies the
 * defaults.
 */
export function resolveOptions(options: SftpUploaderOptions): ResolvedOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.length > 0 ? i.path.join('.') : '(options)'}: ${i.message}`,
    );
    throw new SftpConfigError(
      'INVALID_OPTIONS',
      `Invalid SftpUploader options: ${problems.join('; ')}. Fix the options and create the uploader again.`,
    );
  }
  const o = parsed.data;
  const remoteDir = o.remoteDir ?? '.';
  if (remoteDir.split('/').includes('..')) {
    throw new SftpConfigError(
      'INVALID_OPTIONS',
      `Invalid SftpUploader options: remoteDir "${remoteDir}" must not contain "..".`,
    );
  }
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
      baseDelayMs: o.retry?.baseDelayMs ?? 250,
      maxDelayMs: o.retry?.maxDelayMs ?? 10_000,
    },
    chunkSize: o.chunkSize ?? 261_120,
    concurrency: o.concurrency ?? 8,
    ciphers: o.ciphers,
    logger: options.logger,
  };
}

/** Throws `INVALID_FILE_NAME` when a file name cannot be used. */
export function checkFileName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new SftpConfigError('INVALID_FILE_NAME', 'File name must be a string.');
  }
  const problem = fileNameProblem(name);
  if (problem !== undefined) {
    throw new SftpConfigError(
      'INVALID_FILE_NAME',
      `Cannot upload "${name}": the file name is refused because ${problem}. Use a relative name such as "reports/2024-01-01.csv".`,
      { file: name },
    );
  }
}
