import { isRunning, notifyCurrentWaiters } from './delivery.js';
import { schedule } from './discovery.js';
import { CheckpointFailedError, ReaderStateError } from './errors.js';
import { isPositionList, type ReaderInternals, type ShardState } from './internals.js';
import { compareSequenceNumbers, isSequenceNumber } from './sequence.js';
import type { CheckpointOptions, CheckpointPosition } from './types.js';

/** `KinesisShardReader.checkpoint()`: validates the positions, then writes them (with the state) in order per shard. */
export function writeCheckpoints(
  r: ReaderInternals,
  positions: CheckpointPosition | readonly CheckpointPosition[],
  options: CheckpointOptions,
): Promise<void> {
  const list: readonly CheckpointPosition[] = isPositionList(positions) ? positions : [positions];
  const withState = options !== null && typeof options === 'object' && 'state' in options;
  const planned = new Map<ShardState, { seq: string | null; shardEnd: boolean }>();
  for (const position of list) {
    const shard = r.shards.get(position?.shardId);
    if (shard === undefined) {
      return Promise.reject(
        new ReaderStateError(
          `cannot checkpoint shard ${String(position?.shardId)}: this reader of ${r.o.streamLabel} has not read it. Checkpoint only batches this reader returned.`,
        ),
      );
    }
    const seq = position.lastSequenceNumber;
    if (seq !== null && !isSequenceNumber(seq)) {
      return Promise.reject(
        new ReaderStateError(
          `cannot checkpoint shard ${position.shardId}: ${String(seq)} is not a Kinesis sequence number (1-129 decimal digits, no leading zero).`,
        ),
      );
    }
    const shardEnd = position.shardEnded === true;
    if (shardEnd && shard.status !== 'ended' && shard.status !== 'finished') {
      return Promise.reject(
        new ReaderStateError(
          `cannot store SHARD_END for shard ${shard.id}: it has not been read to its end (status ${shard.status}).`,
        ),
      );
    }
    const before = planned.get(shard);
    const higher =
      before?.seq == null || (seq !== null && compareSequenceNumbers(seq, before.seq) > 0)
        ? seq
        : before.seq;
    planned.set(shard, { seq: higher, shardEnd: shardEnd || before?.shardEnd === true });
  }
  if (planned.size === 0 && !withState) return Promise.resolve();
  const shards = [...planned.keys()];
  const write = async (): Promise<void> => {
    const updates: Array<[string, { sequenceNumber?: string; shardEnd?: boolean }]> = [];
    const applied: Array<{
      shard: ShardState;
      seq: string | null;
      newer: boolean;
      endNow: boolean;
    }> = [];
    for (const [shard, { seq, shardEnd }] of planned) {
      const newer =
        seq !== null &&
        (shard.checkpointSeq === null || compareSequenceNumbers(seq, shard.checkpointSeq) > 0);
      const endNow = shardEnd && !shard.checkpointShardEnd;
      if (!newer && !endNow) continue;
      const update: { sequenceNumber?: string; shardEnd?: boolean } = {};
      if (newer && seq !== null) update.sequenceNumber = seq;
      if (endNow) update.shardEnd = true;
      updates.push([shard.id, update]);
      applied.push({ shard, seq, newer, endNow });
    }
    if (updates.length === 0 && !withState) return;
    const store = r.o.checkpointStore;
    try {
      if (withState) await store.commit(updates, options.state);
      else if (updates.length === 1 && updates[0] !== undefined) await store.put(...updates[0]);
      else await store.putMany(updates);
    } catch (err) {
      const first = applied[0] ?? { shard: shards[0], seq: null };
      throw new CheckpointFailedError(first.shard?.id ?? '', first.seq, {
        cause: err,
        shardIds: shards.map((s) => s.id),
        withState,
      });
    }
    r.totals.checkpointsWritten += 1;
    for (const { shard, seq, newer, endNow } of applied) {
      if (newer) shard.checkpointSeq = seq;
      r.emit('checkpointed', { shardId: shard.id, sequenceNumber: seq, shardEnd: endNow });
      if (endNow) {
        shard.checkpointShardEnd = true;
        if (shard.status === 'ended') shard.status = 'finished';
        r.o.logger?.info('shard finished (SHARD_END stored)', { shardId: shard.id });
        r.emit('shardFinished', { shardId: shard.id });
      }
    }
    if (applied.some((a) => a.endNow) && isRunning(r)) schedule(r);
  };
  const result = Promise.all(shards.map((s) => s.checkpointChain)).then(write);
  const chained = result.catch(() => undefined);
  for (const s of shards) s.checkpointChain = chained;
  r.pendingCheckpoints.add(result);
  const current = r.current;
  /** Records the outcome on the batch in hand, when this checkpoint covered it. */
  const settle = (ok: boolean): void => {
    r.pendingCheckpoints.delete(result);
    if (
      current === undefined ||
      current !== r.current ||
      !list.some(
        (p) =>
          p.shardId === current.batch.shardId &&
          p.lastSequenceNumber === current.batch.lastSequenceNumber,
      )
    ) {
      return;
    }
    // A refusal (lease lost, I/O failure): stop() must not wait for a checkpoint that may
    // never come. The batch stays uncheckpointed.
    if (ok) current.checkpointed = true;
    else current.checkpointFailed = true;
    notifyCurrentWaiters(r);
  };
  void result.then(
    () => settle(true),
    () => settle(false),
  );
  return result;
}
