/** Retry delays: @connect-wfm/core's backoff plus the server's `Retry-After`. */
import { backoffDelay, type ResolvedBackoffPolicy } from '@connect-wfm/core';

/** A retry policy with every default filled in. */
export interface ResolvedRetryPolicy extends ResolvedBackoffPolicy {
  /** Attempts per request (Infinity: no limit). */
  maxAttempts: number;
  /** Time a call may spend retrying, in ms (Infinity: no limit). */
  maxElapsedMs: number;
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
 * The delay before retry number `retry`: core's jittered backoff, or what the server asked for
 * with `Retry-After` if that is longer, never more than `maxMs`.
 *
 * @example
 * retryDelay(1, policy, 5000); // min(policy.maxMs, max(backoff, 5000))
 */
export function retryDelay(
  retry: number,
  policy: ResolvedRetryPolicy,
  serverAskedMs: number | undefined,
  random: () => number = Math.random,
): number {
  const backoff = backoffDelay(retry, policy, random);
  if (serverAskedMs === undefined) return backoff;
  return Math.min(policy.maxMs, Math.max(backoff, serverAskedMs));
}
