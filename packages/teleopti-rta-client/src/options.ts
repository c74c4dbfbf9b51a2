/** Validation of {@link TeleoptiRtaClientOptions} (zod, unknown keys rejected, every problem reported). */
import { z } from 'zod';
import type { ResolvedRetryPolicy } from './backoff.js';
import { RtaClientConfigError } from './errors.js';
import type { RtaLogger, TeleoptiRtaClientOptions } from './types.js';

const pem = z.union([z.string().min(1), z.instanceof(Buffer)]);
const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', {
  message: 'must be a function',
});
const logger = z.custom<RtaLogger>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['debug', 'info', 'warn', 'error'].every(
      (m) => typeof (v as Record<string, unknown>)[m] === 'function',
    ),
  { message: 'must have debug, info, warn and error functions' },
);

const schema = z.strictObject({
  baseUrl: z.union([z.string(), z.instanceof(URL)]).refine(
    (v) => {
      try {
        const url = new URL(v);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: 'must be an http:// or https:// URL' },
  ),
  authenticationKey: z.string({ message: 'must be a string' }).min(1, 'must not be empty'),
  sourceId: z.string({ message: 'must be a string' }).min(1, 'must not be empty'),
  chunkSize: z.number().int().min(1).optional(),
  legacy: z.boolean().optional(),
  timeoutMs: z.number().int().min(1).optional(),
  retry: z
    .strictObject({
      initialDelayMs: z.number().int().min(0).optional(),
      maxDelayMs: z.number().int().min(0).optional(),
      multiplier: z.number().min(1).optional(),
      maxAttempts: z.number().int().min(1).optional(),
    })
    .optional(),
  ca: z.union([pem, z.array(pem).min(1)]).optional(),
  logger: logger.optional(),
  onRetry: fn.optional(),
  onRequest: fn.optional(),
});

/** Options with every default filled in. */
export interface ResolvedOptions {
  endpointBase: URL;
  authenticationKey: string;
  sourceId: string;
  chunkSize: number;
  legacy: boolean;
  timeoutMs: number;
  retry: ResolvedRetryPolicy;
  ca: string | Buffer | Array<string | Buffer> | undefined;
}

/**
 * Validates client options and fills in defaults; throws {@link RtaClientConfigError} listing every
 * problem. Never echoes option values (the key stays out of the message).
 *
 * @example
 * const resolved = resolveOptions({ baseUrl: 'http://127.0.0.1:8080', authenticationKey: 'k', sourceId: '1' });
 */
export function resolveOptions(options: TeleoptiRtaClientOptions): ResolvedOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    throw new RtaClientConfigError(
      parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'options'}: ${i.message}`),
    );
  }
  const base = new URL(options.baseUrl);
  base.search = '';
  base.hash = '';
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  const retry = options.retry ?? {};
  const initialDelayMs = retry.initialDelayMs ?? 250;
  const maxDelayMs = Math.max(initialDelayMs, retry.maxDelayMs ?? 30_000);
  return {
    endpointBase: base,
    authenticationKey: options.authenticationKey,
    sourceId: options.sourceId,
    chunkSize: options.chunkSize ?? 1000,
    legacy: options.legacy ?? false,
    timeoutMs: options.timeoutMs ?? 30_000,
    retry: {
      initialDelayMs,
      maxDelayMs,
      multiplier: retry.multiplier ?? 2,
      maxAttempts: retry.maxAttempts ?? Number.POSITIVE_INFINITY,
    },
    ca:
      options.ca === undefined
        ? undefined
        : typeof options.ca === 'string' || Buffer.isBuffer(options.ca)
          ? options.ca
          : [...options.ca],
  };
}
