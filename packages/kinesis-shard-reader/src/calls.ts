/**
 * Kinesis calls with the reader's retry policy: throttling and transient errors back off with
 * jitter, each request has a timeout, and every wait ends at once when the reader stops.
 */
import { backoffDelay } from './backoff.js';
import { classifyError, type ErrorKind } from './classify.js';
import { asError, type ReaderInternals, type ShardState } from './internals.js';

/** Calls `fn`, retrying throttling and transient errors with backoff until stopped. */
export async function call<T>(
  r: ReaderInternals,
  operation: string,
  shardId: string | undefined,
  fn: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  let throttles = 0;
  let transient = 0;
  for (;;) {
    const request = requestSignal(r);
    try {
      return await fn(request.signal);
    } catch (err) {
      const kind = kindOf(r, err);
      if (kind === 'throttle') {
        throttles += 1;
        await onThrottle(r, shardId, operation, throttles, undefined);
      } else if (kind === 'transient') {
        transient += 1;
        await onTransient(r, shardId, operation, transient, asError(err));
      } else {
        throw err;
      }
      if (r.abort.signal.aborted) throw err;
    } finally {
      request.done();
    }
  }
}

export function kindOf(r: ReaderInternals, err: unknown): ErrorKind {
  const kind = classifyError(err);
  if (kind === 'aborted') return r.abort.signal.aborted ? 'aborted' : 'transient';
  return kind;
}

export async function onThrottle(
  r: ReaderInternals,
  shardId: string | undefined,
  operation: string,
  consecutive: number,
  shard: ShardState | undefined,
): Promise<void> {
  const delayMs = backoffDelay(consecutive, r.o.throttleBackoff);
  r.totals.throttles += 1;
  if (shard !== undefined) shard.throttles += 1;
  if (consecutive % r.o.warnAfterThrottles === 0) {
    r.o.logger?.warn(`${operation} throttled ${consecutive} times in a row`, {
      shardId,
      delayMs,
    });
  }
  r.emit('throttled', { shardId, operation, consecutive, delayMs });
  await sleep(r, delayMs);
}

export async function onTransient(
  r: ReaderInternals,
  shardId: string | undefined,
  operation: string,
  attempt: number,
  error: Error,
): Promise<void> {
  const delayMs = backoffDelay(attempt, r.o.throttleBackoff);
  r.totals.transientErrors += 1;
  r.o.logger?.warn(`${operation} failed transiently; retrying`, {
    shardId,
    attempt,
    delayMs,
    error: `${error.name}: ${error.message}`,
  });
  r.emit('retrying', { shardId, operation, attempt, delayMs, error });
  await sleep(r, delayMs);
}

/** A signal for one request: aborted on stop, or after `requestTimeoutMs`. */
export function requestSignal(r: ReaderInternals): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const stop = r.abort.signal;
  const onStop = (): void => controller.abort();
  if (stop.aborted) controller.abort();
  else stop.addEventListener('abort', onStop, { once: true });
  const timer = setTimeout(() => controller.abort(), r.o.requestTimeoutMs);
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    },
  };
}

/** Sleeps `ms`; resolves false at once when the reader stops. */
export function sleep(r: ReaderInternals, ms: number): Promise<boolean> {
  const stop = r.abort.signal;
  if (stop.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onStop = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      stop.removeEventListener('abort', onStop);
      resolve(true);
    }, ms);
    stop.addEventListener('abort', onStop, { once: true });
  });
}
