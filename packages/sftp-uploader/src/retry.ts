/** A retry policy with every field resolved. */
export interface ResolvedRetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before retry number `retry` (1 = the first retry): exponential backoff capped at
 * `maxDelayMs`, with "equal jitter" (a random point between half and all of the step), so
 * many clients restarting together do not retry in lock-step.
 *
 * @example
 * backoffDelay(3, { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 }); // 500..1000
 */
export function backoffDelay(
  retry: number,
  policy: ResolvedRetryPolicy,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}
