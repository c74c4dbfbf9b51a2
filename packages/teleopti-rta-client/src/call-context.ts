/** Per-call and per-client bookkeeping: the send report, the counters, the retry deadline and wait. */
import { RtaAbortedError } from './errors.js';
import type { RtaClientCounters, RtaSendReport } from './types.js';

export interface CallContext {
  report: RtaSendReport & { rejectedUsers: string[] };
  signal: AbortSignal | undefined;
  /** No retry starts, and no retry wait ends, after this (performance.now() time). */
  deadline: number;
}

export function newReport(): RtaSendReport & { rejectedUsers: string[] } {
  return {
    requests: 0,
    retries: 0,
    acceptedRequests: 0,
    statesSent: 0,
    rejectedUsers: [],
    superseded: 0,
    rejected: [],
    durationMs: 0,
  };
}

export function newCounters(): RtaClientCounters {
  return {
    requests: 0,
    acceptedRequests: 0,
    statesSent: 0,
    retries: 0,
    serverErrors: 0,
    timeouts: 0,
    networkErrors: 0,
    rejectedBatches: 0,
    rejectedStates: 0,
    snapshots: 0,
  };
}

/** Waits `ms`, or throws RtaAbortedError as soon as `signal` fires. */
export async function sleep(
  ms: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<void> {
  if (signal?.aborted) throw new RtaAbortedError(what, signal.reason);
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new RtaAbortedError(what, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
