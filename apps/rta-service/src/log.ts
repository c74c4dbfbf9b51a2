/**
 * The daemon's one logger: pino, JSON lines on stdout (or a human-readable form with
 * `logFormat: pretty`), secrets redacted, plus adapters to the libraries' logger shape.
 */
import { destination, type Logger, pino, stdTimeFunctions } from 'pino';
import pretty from 'pino-pretty';

/** The daemon's logger type. */
export type PinoLogger = Logger;

/** The `(message, context)` logger every @connect-wfm package takes. */
export interface LibraryLogger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

const REDACT = [
  'authKey',
  '*.authKey',
  'authenticationKey',
  '*.authenticationKey',
  'AuthenticationKey',
  '*.AuthenticationKey',
  'secretAccessKey',
  '*.secretAccessKey',
  'sessionToken',
  '*.sessionToken',
];

/** Creates the daemon's logger (synchronous destination, so nothing is lost at exit). */
export function createLogger(level: string, format: 'json' | 'pretty'): PinoLogger {
  const options = {
    level,
    base: { service: 'connect-wfm-rta', pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: stdTimeFunctions.isoTime,
  };
  if (format === 'pretty') {
    return pino(options, pretty({ colorize: process.stdout.isTTY, sync: true, destination: 1 }));
  }
  return pino(options, destination({ dest: 1, sync: true }));
}

function contextOf(meta: unknown[]): Record<string, unknown> {
  const first = meta[0];
  if (first instanceof Error) return { err: first };
  if (typeof first === 'object' && first !== null) return first as Record<string, unknown>;
  return first === undefined ? {} : { detail: first };
}

/** Adapts pino to the libraries' `(message, context)` logger, under a `component` name. */
export function libraryLogger(
  logger: PinoLogger,
  component: string,
): LibraryLogger & {
  debug(message: string, ...meta: unknown[]): void;
  info(message: string, ...meta: unknown[]): void;
  warn(message: string, ...meta: unknown[]): void;
  error(message: string, ...meta: unknown[]): void;
} {
  const child = logger.child({ component });
  return {
    debug: (m: string, ...meta: unknown[]) => child.debug(contextOf(meta), m),
    info: (m: string, ...meta: unknown[]) => child.info(contextOf(meta), m),
    warn: (m: string, ...meta: unknown[]) => child.warn(contextOf(meta), m),
    error: (m: string, ...meta: unknown[]) => child.error(contextOf(meta), m),
  };
}

/** A short, secret-free description of an error for a log line. */
export function errorInfo(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const e = err as Error & { code?: unknown; fatal?: unknown; retryable?: unknown };
  const out: Record<string, unknown> = { error: `${e.name}: ${e.message}` };
  if (e.code !== undefined) out.code = e.code;
  if (e.fatal !== undefined) out.fatal = e.fatal;
  if (e.retryable !== undefined) out.retryable = e.retryable;
  if (e.cause instanceof Error) out.cause = `${e.cause.name}: ${e.cause.message}`;
  return out;
}
