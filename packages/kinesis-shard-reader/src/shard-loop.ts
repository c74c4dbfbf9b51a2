/**
 * One shard's read loop: iterators (start, refresh after expiry, a checkpoint past
 * retention), GetRecords pacing, the end of a shard, and the batches handed to the queue.
 */
import {
  type _Record,
  type ChildShard,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
} from '@aws-sdk/client-kinesis';
import { capAttempts, unwrapAttempts } from './attempt-cap.js';
import { call, kindOf, onThrottle, onTransient, requestSignal, sleep } from './calls.js';
import { classifyError } from './classify.js';
import { deliver, isRunning } from './delivery.js';
import { discover, markTip, register, schedule, track } from './discovery.js';
import { CheckpointExpiredError, ReadFailedError } from './errors.js';
import {
  asError,
  LATEST_REFRESH_MARGIN_MS,
  type ReaderInternals,
  type ShardState,
  toRecord,
} from './internals.js';
import { streamParam } from './stream-ref.js';
import type { IteratorPosition, KinesisRecord, ShardBatch } from './types.js';

export async function runShard(r: ReaderInternals, s: ShardState): Promise<void> {
  r.shardLoops += 1;
  try {
    await readShard(r, s);
  } finally {
    r.shardLoops -= 1;
  }
}

/**
 * Records one GetRecords call may ask for: `maxRecords`, or the shard's share of
 * `maxRecordsInFlight` when a budget is set (at least 1).
 */
export function recordsPerCall(
  o: Pick<ReaderInternals['o'], 'maxRecords' | 'maxRecordsInFlight'>,
  shardLoops: number,
): number {
  if (o.maxRecordsInFlight === undefined) return o.maxRecords;
  const share = Math.floor(o.maxRecordsInFlight / Math.max(1, shardLoops));
  return Math.max(1, Math.min(o.maxRecords, share));
}

async function readShard(r: ReaderInternals, s: ShardState): Promise<void> {
  let iterator = await openIterator(r, s, s.startPosition ?? { type: 'TRIM_HORIZON' });
  let throttles = 0;
  let transient = 0;
  let lastFetchStart = 0;
  let atTip = false;
  const { minBackToBackMs, idleIntervalMs } = r.o;
  while (iterator !== undefined && isRunning(r)) {
    if (lastFetchStart > 0) {
      const spacing = atTip ? Math.max(idleIntervalMs, minBackToBackMs) : minBackToBackMs;
      const wait = lastFetchStart + spacing - Date.now();
      if (wait > 0 && !(await sleep(r, wait))) return;
    }
    lastFetchStart = Date.now();
    const limit = recordsPerCall(r.o, r.shardLoops);
    let out: GetRecordsCommandOutput;
    try {
      out = await getRecords(r, iterator, limit);
    } catch (err) {
      const kind = kindOf(r, err);
      if (kind === 'aborted') return;
      if (kind === 'throttle') {
        throttles += 1;
        await onThrottle(r, s.id, 'GetRecords', throttles, s);
        continue;
      }
      if (kind === 'expired-iterator') {
        iterator = await refreshIterator(r, s);
        continue;
      }
      if (kind === 'transient') {
        transient += 1;
        await onTransient(r, s.id, 'GetRecords', transient, asError(err));
        continue;
      }
      if (kind === 'not-found') {
        // The shard expired while being read (far behind on a closed shard). If the whole
        // stream is gone, the discovery that follows fails with StreamNotFoundError.
        r.o.logger?.warn('shard no longer exists (expired) while being read', {
          shardId: s.id,
        });
        s.status = 'gone';
        schedule(r);
        track(r, discover(r));
        return;
      }
      throw new ReadFailedError(r.o.streamLabel, 'GetRecords', s.id, { cause: err });
    }
    throttles = 0;
    transient = 0;
    s.getRecordsCalls += 1;
    r.totals.getRecordsCalls += 1;
    const raw = out.Records ?? [];
    const records = new Array<KinesisRecord>(raw.length);
    let bytes = 0;
    for (let i = 0; i < raw.length; i++) {
      const r = toRecord(raw[i] as _Record);
      bytes += r.data.byteLength;
      records[i] = r;
    }
    const millis = out.MillisBehindLatest ?? 0;
    const next = out.NextShardIterator ?? undefined;
    const ended = next === undefined;
    atTip = ended || (millis === 0 && records.length < limit);
    s.millisBehindLatest = millis;
    s.recordsRead += records.length;
    s.bytesRead += bytes;
    r.totals.recordsRead += records.length;
    r.totals.bytesRead += bytes;
    r.emit('lag', { shardId: s.id, millisBehindLatest: millis, records: records.length });
    const lastFetched = records.at(-1)?.sequenceNumber;
    if (lastFetched !== undefined) s.lastReadSeq = lastFetched;

    if (ended) {
      await onShardEnd(r, s, out.ChildShards);
      if (!isRunning(r)) return;
    }
    if (records.length > 0 || ended) {
      const batch = makeBatch(r, s, records, millis, ended, atTip);
      const outcome = await deliver(r, s, batch, atTip);
      if (outcome === 'discarded') return;
    } else if (atTip) {
      markTip(r, s);
    }
    if (ended) return;
    iterator = next;
  }
}

export function makeBatch(
  r: ReaderInternals,
  s: ShardState,
  records: KinesisRecord[],
  millisBehindLatest: number,
  shardEnded: boolean,
  atTip: boolean,
): ShardBatch {
  const batch: ShardBatch = {
    shardId: s.id,
    records,
    millisBehindLatest,
    lastSequenceNumber: records.at(-1)?.sequenceNumber ?? s.lastReadSeq ?? s.checkpointSeq,
    shardEnded,
    childShardIds: shardEnded ? [...s.childShardIds] : [],
    atTip,
    checkpoint: () => r.checkpoint(batch),
  };
  return batch;
}

export async function onShardEnd(
  r: ReaderInternals,
  s: ShardState,
  childShards: ChildShard[] | undefined,
): Promise<void> {
  s.status = 'ended';
  r.totals.shardEnds += 1;
  if (childShards !== undefined && childShards.length > 0) {
    for (const c of childShards) {
      if (c.ShardId === undefined) continue;
      if (!r.shards.has(c.ShardId)) register(r, c.ShardId, [...(c.ParentShards ?? [])], false);
    }
    s.childShardIds = childShards.flatMap((c) => (c.ShardId === undefined ? [] : [c.ShardId]));
    schedule(r);
  } else {
    try {
      await discover(r);
    } catch (err) {
      if (r.abort.signal.aborted) return;
      throw err;
    }
    s.childShardIds = [...r.shards.values()]
      .filter((c) => c.parentIds.includes(s.id))
      .map((c) => c.id);
  }
  r.o.logger?.info('shard read to its end', {
    shardId: s.id,
    childShardIds: s.childShardIds,
  });
  r.emit('shardEnded', {
    shardId: s.id,
    childShardIds: s.childShardIds,
    lastSequenceNumber: s.lastReadSeq ?? s.checkpointSeq,
  });
}

export async function getRecords(
  r: ReaderInternals,
  iterator: string,
  limit: number,
): Promise<GetRecordsCommandOutput> {
  const { client, stream, getRecordsMaxAttempts } = r.o;
  const command = capAttempts(
    new GetRecordsCommand({
      ShardIterator: iterator,
      Limit: limit,
      ...(stream.arn === undefined ? {} : { StreamARN: stream.arn }),
    }),
    getRecordsMaxAttempts,
  );
  const request = requestSignal(r);
  try {
    return await client.send(command, { abortSignal: request.signal });
  } catch (err) {
    throw unwrapAttempts(err);
  } finally {
    request.done();
  }
}

/** Gets an iterator; a rejected checkpoint is reported and the shard restarts at TRIM_HORIZON. */
export async function openIterator(
  r: ReaderInternals,
  s: ShardState,
  position: IteratorPosition,
): Promise<string | undefined> {
  try {
    return await getIterator(r, s, position);
  } catch (err) {
    if (r.abort.signal.aborted) return undefined;
    const kind = classifyError(err);
    if (position.type === 'AFTER_SEQUENCE_NUMBER' && kind === 'invalid-argument') {
      reportExpired(
        r,
        new CheckpointExpiredError(
          r.o.streamLabel,
          s.id,
          position.sequenceNumber,
          'sequence-rejected',
          { cause: err },
        ),
      );
      const restart: IteratorPosition = { type: 'TRIM_HORIZON' };
      s.startPosition = restart;
      s.lastReadSeq = null;
      return await openIterator(r, s, restart);
    }
    if (kind === 'not-found') {
      r.o.logger?.warn('shard no longer exists (expired); treating it as finished', {
        shardId: s.id,
      });
      s.status = 'gone';
      schedule(r);
      return undefined;
    }
    throw new ReadFailedError(r.o.streamLabel, 'GetShardIterator', s.id, { cause: err });
  }
}

export async function refreshIterator(
  r: ReaderInternals,
  s: ShardState,
): Promise<string | undefined> {
  let position: IteratorPosition;
  if (s.lastReadSeq !== null) {
    position = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: s.lastReadSeq };
  } else if (s.startPosition?.type === 'LATEST') {
    position = {
      type: 'AT_TIMESTAMP',
      timestamp: new Date((s.latestIssuedAt ?? Date.now()) - LATEST_REFRESH_MARGIN_MS),
    };
  } else {
    position = s.startPosition ?? { type: 'TRIM_HORIZON' };
  }
  s.iteratorRefreshes += 1;
  r.totals.iteratorRefreshes += 1;
  r.o.logger?.debug('iterator expired; getting a new one', {
    shardId: s.id,
    position: position.type,
  });
  r.emit('iteratorRefreshed', { shardId: s.id, position });
  return await openIterator(r, s, position);
}

export async function getIterator(
  r: ReaderInternals,
  s: ShardState,
  position: IteratorPosition,
): Promise<string> {
  const { client, stream } = r.o;
  const out = await call(r, 'GetShardIterator', s.id, (abortSignal) =>
    client.send(
      new GetShardIteratorCommand({
        ...streamParam(stream),
        ShardId: s.id,
        ShardIteratorType: position.type,
        ...(position.type === 'AFTER_SEQUENCE_NUMBER'
          ? { StartingSequenceNumber: position.sequenceNumber }
          : {}),
        ...(position.type === 'AT_TIMESTAMP' ? { Timestamp: position.timestamp } : {}),
      }),
      { abortSignal },
    ),
  );
  if (position.type === 'LATEST') s.latestIssuedAt = Date.now();
  if (out.ShardIterator === undefined) {
    throw new ReadFailedError(r.o.streamLabel, 'GetShardIterator', s.id, {
      cause: new Error('the response carried no ShardIterator'),
    });
  }
  return out.ShardIterator;
}

export function reportExpired(r: ReaderInternals, error: CheckpointExpiredError): void {
  r.totals.checkpointsExpired += 1;
  r.o.logger?.error(error.message, {
    shardId: error.shardId,
    sequenceNumber: error.sequenceNumber,
  });
  r.emit('checkpointExpired', {
    shardId: error.shardId,
    sequenceNumber: error.sequenceNumber,
    error,
  });
}
