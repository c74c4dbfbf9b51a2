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
