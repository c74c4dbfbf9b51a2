import { EventEmitter } from 'node:events';
import { writeCheckpoints } from './checkpointing.js';
import { fail, releaseCurrent, wakeUp } from './delivery.js';
import { schedule, start } from './discovery.js';
import { InvalidOptionsError, ReaderStateError } from './errors.js';
import { createInternals, type ReaderInternals } from './internals.js';
import { resolveOptions } from './options.js';
import type {
  BatchHandler,
  CheckpointOptions,
  CheckpointPosition,
  KinesisShardReaderEvents,
  KinesisShardReaderOptions,
  ReaderMetrics,
  RunOptions,
  ShardBatch,
  ShardMetrics,
} from './types.js';

/**
 * Reads every shard of a Kinesis data stream in parallel and hands the caller batches, which
 * the caller checkpoints once it has processed them (at-least-once). Handles resharding
 * (parents before children, SHARD_END markers), expired iterators, throttling, checkpoints
 * older than retention, and graceful shutdown.
 *
 * Consume it with `for await` (the primary API; the next batch of a shard is fetched only after
 * the caller asked for the next batch, so one batch per shard is in flight) or with `run()`.
 *
 * @example
 * import { KinesisClient } from '@aws-sdk/client-kinesis';
 * import { FileCheckpointStore } from '@connect-wfm/checkpoint-store';
 * import { KinesisShardReader } from '@connect-wfm/kinesis-shard-reader';
 *
 * const reader = new KinesisShardReader({
 *   client: new KinesisClient({ region: 'eu-west-1' }),
 *   stream: 'agent-events',
 *   checkpointStore: new FileCheckpointStore({ application: 'rta', stream: 'agent-events', path: './checkpoints.json' }),
 *   initialPosition: { type: 'AT_TIMESTAMP', timestamp: new Date(Date.now() - 24 * 3600_000) },
 * });
 * reader.once('caughtUp', () => console.log('every shard is at its tip'));
 * process.once('SIGTERM', () => void reader.stop());
 * for await (const batch of reader) {
 *   for (const record of batch.records) handle(record);
 *   await batch.checkpoint();
 * }
 */
export class KinesisShardReader
  extends EventEmitter<KinesisShardReaderEvents>
  implements AsyncIterable<ShardBatch>
{
  readonly #r: ReaderInternals;
  #iterated = false;
  #stopPromise: Promise<void> | undefined;
  #startPromise: Promise<void> | undefined;
  #onSignalAbort: (() => void) | undefined;

  /**
   * Validates the options (throws {@link InvalidOptionsError} listing every problem). Nothing is
   * read until the reader is iterated or `run()` is called.
   *
   * @example
   * const reader = new KinesisShardReader({ client, stream: 'agent-events', checkpointStore, initialPosition: { type: 'TRIM_HORIZON' } });
   */
  constructor(options: KinesisShardReaderOptions) {
    super();
    this.#r = createInternals(resolveOptions(options), {
      emit: this.emit.bind(this) as ReaderInternals['emit'],
      stop: () => this.stop(),
      checkpoint: (position) => this.checkpoint(position),
    });
    const signal = this.#r.o.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.#r.phase = 'stopped';
      else {
        this.#onSignalAbort = () => void this.stop();
        signal.addEventListener('abort', this.#onSignalAbort, { once: true });
      }
    }
  }

  /** True once every open shard has reached its tip at least once (see the `caughtUp` event). */
  get caughtUp(): boolean {
    return this.#r.caughtUp;
  }

  /**
   * The batches of every shard, as they arrive. Asking for the next batch means the previous
   * one was processed: only then is the next batch of that shard fetched. Breaking out of the
   * loop stops the reader.
   *
   * @example
   * for await (const batch of reader) {
   *   await deliver(batch.records);
   *   await batch.checkpoint();
   * }
   */
  [Symbol.asyncIterator](): AsyncIterator<ShardBatch> {
    if (this.#iterated) {
      throw new ReaderStateError(
        `KinesisShardReader for ${this.#r.o.streamLabel} is already being consumed: iterate it once (or call run() once), and create a new reader to read again.`,
      );
    }
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: async () => {
        releaseCurrent(this.#r);
        await this.stop();
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * Handler form: calls `handler` for every batch, one at a time, and checkpoints the batch after
   * the handler resolved (unless `autoCheckpoint: false`). Resolves when the reader is stopped;
   * rejects when the handler throws (the reader is then stopped, the failed batch is not
   * checkpointed) or when reading fails.
   *
   * @example
   * const done = reader.run(async (batch) => { await deliver(batch.records); });
   * process.once('SIGTERM', () => void reader.stop());
   * await done;
   */
  async run(handler: BatchHandler, options: RunOptions = {}): Promise<void> {
    const autoCheckpoint = options.autoCheckpoint ?? true;
    for await (const batch of this) {
      await handler(batch);
      if (autoCheckpoint) await batch.checkpoint();
    }
  }

  /**
   * Stores checkpoints: a batch, or `{ shardId, lastSequenceNumber, shardEnded }` kept from one,
   * or a list of them. Call it only after the batches were processed. A checkpoint never moves
   * backwards: an older position than the stored one is ignored. Checkpointing a shard's final
   * batch stores SHARD_END (and, with `childShardStart: 'parent-checkpointed'`, lets its
   * children start). Writes for one shard are applied in call order.
   *
   * With `{ state }`, every position and the state are written in ONE `checkpointStore.commit()`
   * (atomic on every backend), even when no position moved; without it, one position is a
   * `put()` and several are one `putMany()`.
   *
   * @example
   * const last = { shardId: batch.shardId, lastSequenceNumber: batch.lastSequenceNumber, shardEnded: batch.shardEnded };
   * // ... later, after delivery:
   * await reader.checkpoint([last, ...others], { state: collapser.exportState() });
   */
  checkpoint(
    positions: CheckpointPosition | readonly CheckpointPosition[],
    options: CheckpointOptions = {},
  ): Promise<void> {
    return writeCheckpoints(this.#r, positions, options);
  }

  /**
   * Stops gracefully: no new GetRecords, fetched batches not yet handed out are dropped (they
   * were never checkpointed, so they are read again after a restart), the batch the caller holds
   * is awaited until the caller asks for the next one (or checkpoints it), pending checkpoint
   * writes finish, then it resolves. Do not `await` it inside the loop body before checkpointing
   * the current batch: call it without awaiting, or `break`. Once a checkpoint of the batch in
   * hand has failed (`CheckpointFailedError`, e.g. the lease was lost), it no longer waits for
   * that batch: the batch is abandoned uncheckpointed and read again by the next reader of the
   * shard. The listener on the `signal` option is removed.
   *
   * @example
   * process.once('SIGTERM', () => void reader.stop());
   */
  stop(): Promise<void> {
    if (this.#stopPromise !== undefined) return this.#stopPromise;
    this.#detachSignal();
    if (this.#r.phase === 'new' || this.#r.phase === 'stopped') {
      this.#r.phase = 'stopped';
      this.#stopPromise = Promise.resolve().then(() => {
        this.#r.emit('stopped');
      });
      return this.#stopPromise;
    }
    this.#r.phase = 'stopping';
    this.#r.abort.abort();
    for (const d of this.#r.queue.splice(0)) d.settle('discarded');
    wakeUp(this.#r);
    this.#stopPromise = (async () => {
      await this.#startPromise?.catch(() => undefined);
      while (
        this.#r.current !== undefined &&
        !this.#r.current.checkpointed &&
        !this.#r.current.checkpointFailed
      ) {
        await new Promise<void>((resolve) => this.#r.currentWaiters.push(resolve));
      }
      // A checkpointed batch is finished even if the caller has not asked for the next one
      // (it may be awaiting stop() in its loop body): let its shard loop end.
      this.#r.current?.settle('released');
      while (this.#r.loops.size > 0) await Promise.allSettled([...this.#r.loops]);
      await Promise.allSettled([...this.#r.pendingCheckpoints]);
      this.#r.phase = 'stopped';
      this.#r.o.logger?.info('reader stopped', { stream: this.#r.o.streamLabel });
      this.#r.emit('stopped');
    })();
    return this.#stopPromise;
  }

  #detachSignal(): void {
    const listener = this.#onSignalAbort;
    if (listener === undefined) return;
    this.#onSignalAbort = undefined;
    this.#r.o.signal?.removeEventListener('abort', listener);
  }

  /**
   * A snapshot of the counters: totals, per-shard lag and state.
   *
   * @example
   * setInterval(() => exportGauge('kinesis_lag_ms', reader.metrics().maxMillisBehindLatest), 10_000);
   */
  metrics(): ReaderMetrics {
    const shards: Record<string, ShardMetrics> = {};
    let maxLag = 0;
    for (const s of this.#r.shards.values()) {
      shards[s.id] = {
        status: s.status,
        millisBehindLatest: s.millisBehindLatest,
        recordsRead: s.recordsRead,
        bytesRead: s.bytesRead,
        batchesDelivered: s.batchesDelivered,
        getRecordsCalls: s.getRecordsCalls,
        throttles: s.throttles,
        iteratorRefreshes: s.iteratorRefreshes,
        lastSequenceNumber: s.lastDeliveredSeq,
        checkpointSequenceNumber: s.checkpointSeq,
      };
      if (s.status === 'reading' && s.millisBehindLatest !== null) {
        maxLag = Math.max(maxLag, s.millisBehindLatest);
      }
    }
    return { ...this.#r.totals, maxMillisBehindLatest: maxLag, caughtUp: this.#r.caughtUp, shards };
  }

  async #next(): Promise<IteratorResult<ShardBatch, undefined>> {
    releaseCurrent(this.#r);
    if (this.#r.phase === 'new') {
      this.#startPromise = start(this.#r);
      try {
        await this.#startPromise;
      } catch (err) {
        fail(this.#r, err);
      }
    }
    for (;;) {
      if (this.#r.failure !== undefined) throw this.#r.failure;
      const d = this.#r.queue.shift();
      if (d !== undefined) {
        this.#r.current = d;
        if (d.batch.records.length > 0) d.shard.lastDeliveredSeq = d.batch.lastSequenceNumber;
        d.shard.batchesDelivered += 1;
        this.#r.totals.batchesDelivered += 1;
        if (d.batch.shardEnded && this.#r.o.childShardStart === 'parent-delivered') {
          // children may start now: their batches queue up behind this one
          d.shard.finalHandedOut = true;
          schedule(this.#r);
        }
        return { done: false, value: d.batch };
      }
      if (this.#r.phase === 'stopping' || this.#r.phase === 'stopped') {
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.#r.wake = resolve;
      });
    }
  }
}
