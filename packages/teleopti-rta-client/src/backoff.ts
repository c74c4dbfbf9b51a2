/** Exponential backoff with full jitter. */

/** A retry policy with every default filled in. */
export interface ResolvedRetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  maxAttempts: number;
}

/**
 * The delay before retry number `retry` (1 for the first retry): a random value in
 * `[0, min(maxDelayMs, initialDelayMs * multiplier ** (retry - 1))]` ("full jitter").
 *
 * @example
 * backoffDelay(3, { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, maxAttempts: Infinity }, () => 0.5); // 200
 */
export function backoffDelay(
  retry: number,
  policy: ResolvedRetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, retry - 1);
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  return Math.round(random() * bound);
}

/**
 * The wait a `Retry-After` header asks for, in ms: delta-seconds (`"120"`) or an HTTP date;
 * `undefined` when absent or unreadable. A date in the past gives 0.
 *
 * @example
 * retryAfterMs('2'); // 2000
 */
export function retryAfterMs(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  // An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`); Date.parse alone would also take '-1'.
  if (!/^[A-Za-z]{3},? .*\d{1,2}:\d{2}:\d{2}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * The delay before retry number `retry`: the jittered backoff, or what the server asked for with
 * `Retry-After` if that is longer, never more than `maxDelayMs`.
 *
 * @example
 * retryDelay(1, policy, 5000); // min(policy.maxDelayMs, max(backoff, 5000))
 */
export function retryDelay(
  retry: number,
  policy: ResolvedRetryPolicy,
  serverAskedMs: number | undefined,
  random: () => number = Math.random,
): number {
  const backoff = backoffDelay(retry, policy, random);
  if (serverAskedMs === undefined) return backoff;
  return Math.min(policy.maxDelayMs, Math.max(backoff, serverAskedMs));
}
