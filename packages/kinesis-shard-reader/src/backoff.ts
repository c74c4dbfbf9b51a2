/**
 * Exponential backoff with "equal jitter": attempt n (1-based) waits between half and all of
 * min(maxMs, baseMs * 2^(n-1)), so retries of many shards spread out instead of stampeding.
 *
 * @example
 * backoffDelay(1, { baseMs: 200, maxMs: 5000 }); // 100..200
 * backoffDelay(10, { baseMs: 200, maxMs: 5000 }); // 2500..5000
 */
export function backoffDelay(
  attempt: number,
  options: { readonly baseMs: number; readonly maxMs: number },
  random: () => number = Math.random,
): number {
  const exp = Math.min(30, Math.max(0, attempt - 1));
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exp);
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
