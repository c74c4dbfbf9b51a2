/**
 * The delivery handshake: batches fetched by the shard loops wait in a queue until the
 * caller asks for the next one; the batch in hand is "current" until then.
 */

import { markTip } from './discovery.js';
import { asError, type ReaderInternals, type ShardState } from './internals.js';
import type { ShardBatch } from './types.js';

export function releaseCurrent(r: ReaderInternals): void {
  const d = r.current;
  if (d === undefined) return;
  r.current = undefined;
  d.settle('released');
  if (d.atTip) markTip(r, d.shard);
  notifyCurrentWaiters(r);
}

export function notifyCurrentWaiters(r: ReaderInternals): void {
  for (const w of r.currentWaiters.splice(0)) w();
}

export function wakeUp(r: ReaderInternals): void {
  const w = r.wake;
  r.wake = undefined;
  w?.();
}

export function deliver(
  r: ReaderInternals,
  shard: ShardState,
  batch: ShardBatch,
  atTip: boolean,
): Promise<'released' | 'discarded'> {
  if (!isRunning(r)) return Promise.resolve('discarded');
  return new Promise((resolve) => {
    r.queue.push({
      batch,
      shard,
      atTip,
      settle: resolve,
      checkpointed: false,
      checkpointFailed: false,
    });
    wakeUp(r);
  });
}

export function isRunning(r: ReaderInternals): boolean {
  return r.phase === 'running';
}

export function fail(r: ReaderInternals, err: unknown): void {
  if (r.failure !== undefined) return;
  if (r.phase === 'stopping' || r.phase === 'stopped') {
    // Errors of calls cut short by stop() are expected.
    r.o.logger?.debug('error while stopping', { error: asError(err).message });
    return;
  }
  r.failure = asError(err);
  r.o.logger?.error('reader failed', {
    stream: r.o.streamLabel,
    error: r.failure.message,
  });
  void r.stop();
  wakeUp(r);
}
