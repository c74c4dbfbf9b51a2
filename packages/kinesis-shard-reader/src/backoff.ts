/**
 * Exponential backoff with jitter: attempt n (1-based) waits a random time between d and 2·d,
 * capped at `maxMs`, where d = min(baseMs·2^(n-1), max(baseMs, maxMs/2)). With the defaults the
 * first retry waits 200–400 ms and later ones grow to 2.5–5 s, so retries of many shards spread
 * out instead of stampeding, and no retry comes sooner than `baseMs`.
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
  const exp = Math.min(30, Math.max(0, attempt - 1));
  const floor = Math.min(options.baseMs * 2 ** exp, Math.max(options.baseMs, options.maxMs / 2));
  return Math.round(Math.min(options.maxMs, floor + random() * floor));
}
