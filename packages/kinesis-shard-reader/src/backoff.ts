import { backoffDelay as coreBackoffDelay } from '@connect-wfm/core';

/**
 * The reader's throttling backoff, on @connect-wfm/core's one implementation: attempt n (1-based)
 * waits a random time from d to 2·d with d = baseMs·2^(n-1), capped so that it never exceeds
 * `maxMs` (the last steps wait `maxMs`/2 to `maxMs`), and never less than `baseMs`. That is
 * core's `backoffDelay(n + 1, { baseMs, maxMs, jitter: 'equal' })`. With the defaults the first
 * retry waits 200–400 ms (Kinesis allows 5 calls a second per shard) and later ones 2.5–5 s.
 *
 * @example
 * backoffDelay(1, { baseMs: 200, maxMs: 5000 }); // 200..400
 * backoffDelay(10, { baseMs: 200, maxMs: 5000 }); // 2500..5000
 */
export function backoffDelay(
  attempt: number,
  options: { readonly baseMs: number; readonly maxMs: number },
  random: () => number = Math.random,
): number {
  const delay = coreBackoffDelay(
    Math.max(1, attempt) + 1,
    { baseMs: options.baseMs, maxMs: options.maxMs, jitter: 'equal' },
    random,
  );
  return Math.round(Math.max(Math.min(options.baseMs, options.maxMs), delay));
}
