/**
 * The one logger shape every connect-wfm package accepts. pino, the Powertools Logger and a thin
 * console wrapper all fit it; libraries never write to the console themselves.
 */

/** Structured context attached to a log line. */
export type LogContext = Record<string, unknown>;

/**
 * A structured logger: a message and an optional context object, at four levels.
 *
 * @example
 * import pino from 'pino';
 * const base = pino();
 * const logger: Logger = {
 *   debug: (m, c) => base.debug(c ?? {}, m),
 *   info: (m, c) => base.info(c ?? {}, m),
 *   warn: (m, c) => base.warn(c ?? {}, m),
 *   error: (m, c) => base.error(c ?? {}, m),
 * };
 */
export interface Logger {
  /** Detail useful while diagnosing: iterator refreshes, retries that succeeded. */
  debug(message: string, context?: LogContext): void;
  /** Life-cycle events: start, stop, snapshot sent, shard ended. */
  info(message: string, context?: LogContext): void;
  /** Something went wrong and was handled: a retry, a bad record set aside. */
  warn(message: string, context?: LogContext): void;
  /** Something went wrong and needs an operator: data lost, a fatal configuration error. */
  error(message: string, context?: LogContext): void;
}

const ignore = (): void => {};

/**
 * A logger that drops everything: the default of every package.
 *
 * @example
 * const logger = options.logger ?? silentLogger;
 */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});
