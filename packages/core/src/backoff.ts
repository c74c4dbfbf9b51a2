/**
 * The one backoff policy of connect-wfm: exponential, capped, with jitter.
 */

/** How a backoff delay is randomised (see {@link BackoffPolicy.jitter}). */
export type BackoffJitter = 'full' | 'equal' | 'none';

/**
 * How long to wait before attempt number n of an operation that failed. Every field may be left
 * out or given as `undefined` (its default then).
 */
export interface BackoffPolicy {
  /** The delay before the first retry, before jitter, in ms. @default 200 */
  readonly baseMs?: number | undefined;
  /** The largest delay, in ms. @default 5000 */
  readonly maxMs?: number | undefined;
  /**
   * How the delay d is randomised: `'full'` picks from [0, d], `'equal'` from [d/2, d] (never
   * close to zero, so a fast loop cannot form), `'none'` waits d.
   * @default 'equal'
   */
  readonly jitter?: BackoffJitter | undefined;
}

/** A {@link BackoffPolicy} with every field given (what a package holds after applying defaults). */
export interface ResolvedBackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: BackoffJitter;
}

/** The defaults of {@link BackoffPolicy}. */
export const DEFAULT_BACKOFF: ResolvedBackoffPolicy = Object.freeze({
  baseMs: 200,
  maxMs: 5_000,
  jitter: 'equal',
});

/**
 * The delay before retry `attempt` (1 for the first retry): d = min(maxMs, baseMs·2^(attempt−1)),
 * then jittered. Whole milliseconds.
 *
 * @example
 * backoffDelay(1); // 100..200
 * backoffDelay(4, { baseMs: 100, maxMs: 1000, jitter: 'none' }); // 800
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = {},
  random: () => number = Math.random,
): number {
  const baseMs = policy.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const maxMs = policy.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const jitter = policy.jitter ?? DEFAULT_BACKOFF.jitter;
  const exponent = Math.min(Math.max(0, Math.floor(attempt) - 1), 52);
  const d = Math.max(0, Math.min(maxMs, baseMs * 2 ** exponent));
  switch (jitter) {
    case 'none':
      return Math.round(d);
    case 'full':
      return Math.round(random() * d);
    default:
      return Math.round(d / 2 + (random() * d) / 2);
  }
}

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts (at once if it
 * already has). The timer does not keep the process alive past an abort.
 *
 * @example
 * await sleep(backoffDelay(attempt, policy), signal);
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
