/** Validation of {@link TeleoptiRtaClientOptions} (zod, unknown keys rejected, every problem reported). */
import { configProblemsFrom, DEFAULT_BACKOFF, type Logger } from '@connect-wfm/core';
import { z } from 'zod';
import type { ResolvedRetryPolicy } from './backoff.js';
import { RtaClientConfigError } from './errors.js';
import type { RtaServerGeneration, TeleoptiRtaClientOptions } from './types.js';

const pem = z.union([z.string().min(1), z.instanceof(Buffer)]);
const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', {
  message: 'must be a function',
});
const logger = z.custom<Logger>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['debug', 'info', 'warn', 'error'].every(
      (m) => typeof (v as Record<string, unknown>)[m] === 'function',
    ),
  { message: 'must have debug, info, warn and error functions' },
);

/** Node's timers hold at most 2^31 − 1 ms; a longer one fires after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647;
const ms = z.number().int().min(0).max(MAX_TIMER_MS);

function parseUrl(v: string | URL): URL | undefined {
  try {
    const url = new URL(v);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

const schema = z.strictObject({
  baseUrl: z
    .union([z.string(), z.instanceof(URL)])
    .refine((v) => parseUrl(v) !== undefined, {
      message: 'must be an http:// or https:// URL',
      abort: true,
    })
    .refine(
      (v) => {
        const url = parseUrl(v);
        return url === undefined || (url.username === '' && url.password === '');
      },
      {
        // The value is not echoed: it holds a password.
        message:
          'must not contain a user name or password (user:password@): the RTA API authenticates with authenticationKey',
      },
    )
    .refine(
      (v) => {
        const url = parseUrl(v);
        return url === undefined || (url.search === '' && url.hash === '');
      },
      {
        message: 'must not have a query string or fragment (the client adds Rta/State/Batch to it)',
      },
    ),
  authenticationKey: z.string({ message: 'must be a string' }).min(1, 'must not be empty'),
  sourceId: z.string({ message: 'must be a string' }).min(1, 'must not be empty'),
  chunkSize: z.number().int().min(1).optional(),
  generation: z.enum(['current', 'synchronous', 'snapshot-id']).optional(),
  legacy: z.boolean().optional(),
  timeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).optional(),
  retry: z
    .strictObject({
      baseMs: ms.optional(),
      maxMs: ms.optional(),
      jitter: z.enum(['full', 'equal', 'none']).optional(),
      initialDelayMs: ms.optional(),
      maxDelayMs: ms.optional(),
      maxAttempts: z.number().int().min(1).optional(),
      maxElapsedMs: ms.optional(),
    })
    .refine(
      (r) => {
        const max = r.maxMs ?? r.maxDelayMs;
        return max === undefined || max >= (r.baseMs ?? r.initialDelayMs ?? DEFAULT_BACKOFF.baseMs);
      },
      {
        message: `maxMs (maxDelayMs) must not be below baseMs (initialDelayMs; default ${DEFAULT_BACKOFF.baseMs})`,
        path: ['maxMs'],
      },
    )
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
  generation: RtaServerGeneration;
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
  if (!parsed.success) throw new RtaClientConfigError(configProblemsFrom(parsed.error));
  if (
    options.generation !== undefined &&
    options.legacy === true &&
    options.generation !== 'snapshot-id'
  ) {
    throw new RtaClientConfigError([
      {
        path: 'legacy',
        message: `contradicts generation "${options.generation}" (legacy means snapshot-id)`,
      },
    ]);
  }
  const base = new URL(options.baseUrl);
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  const retry = options.retry ?? {};
  const baseMs = retry.baseMs ?? retry.initialDelayMs ?? DEFAULT_BACKOFF.baseMs;
  const maxMs = retry.maxMs ?? retry.maxDelayMs ?? Math.max(baseMs, DEFAULT_BACKOFF.maxMs);
  return {
    endpointBase: base,
    authenticationKey: options.authenticationKey,
    sourceId: options.sourceId,
    chunkSize: options.chunkSize ?? 1000,
    generation: options.generation ?? (options.legacy ? 'snapshot-id' : 'current'),
    timeoutMs: options.timeoutMs ?? 30_000,
    retry: {
      baseMs,
      maxMs,
      jitter: retry.jitter ?? DEFAULT_BACKOFF.jitter,
      maxAttempts: retry.maxAttempts ?? Number.POSITIVE_INFINITY,
      maxElapsedMs: retry.maxElapsedMs ?? Number.POSITIVE_INFINITY,
    },
    ca:
      options.ca === undefined
        ? undefined
        : typeof options.ca === 'string' || Buffer.isBuffer(options.ca)
          ? options.ca
          : [...options.ca],
  };
}
