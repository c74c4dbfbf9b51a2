import { EventEmitter } from 'node:events';
import {
  type _Record,
  type ChildShard,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { Checkpoint } from '@connect-wfm/checkpoint-store';
import { stripAwsResponse } from '@connect-wfm/redact';
import { capAttempts, unwrapAttempts } from './attempt-cap.js';
import { backoffDelay } from './backoff.js';
import { classifyError, type ErrorKind } from './classify.js';
import {
  CheckpointExpiredError,
  CheckpointFailedError,
  InvalidOptionsError,
  ReaderStateError,
  ReadFailedError,
  StreamNotFoundError,
} from './errors.js';
import { type ResolvedOptions, resolveOptions } from './options.js';
import { decideStart, type PlanContext } from './plan.js';
import { compareSequenceNumbers, isSequenceNumber } from './sequence.js';
import { streamParam } from './stream-ref.js';
import type {
  BatchHandler,
  CheckpointOptions,
  CheckpointPosition,
  IteratorPosition,
  KinesisRecord,
  KinesisShardReaderEvents,
  KinesisShardReaderOptions,
  ReaderMetrics,
  RunOptions,
  ShardBatch,
  ShardMetrics,
  ShardStatus,
} from './types.js';

/** How far before a LATEST iterator's creation a refreshed iterator starts (clock skew margin). */
const LATEST_REFRESH_MARGIN_MS = 5_000;
/** How often a listing restarts after ExpiredNextTokenException before it fails. */
const LIST_SHARDS_RESTARTS = 3;

interface ShardState {
  readonly id: string;
  parentIds: string[];
  closed: boolean;
  status: ShardStatus;
  /** Sequence number stored in the checkpoint store. */
  checkpointSeq: string | null;
  checkpointShardEnd: boolean;
  readInRun: boolean;
  startPosition: IteratorPosition | undefined;
  latestIssuedAt: number | undefined;
  /** Last sequence number fetched from Kinesis (where a refreshed iterator resumes). */
  lastReadSeq: string | null;
  /** Last sequence number handed to the caller (`ShardMetrics.lastSequenceNumber`). */
  lastDeliveredSeq: string | null;
  /** Order of registration; a listing started before it cannot say the shard is gone. */
  registeredAt: number;
  /** True when the status `gone` came from a listing (a later listing may revive it). */
  goneFromListing: boolean;
  millisBehindLatest: number | null;
  reachedTip: boolean;
  /** The shard's final batch was handed to the caller (children may start in 'parent-delivered'). */
  finalHandedOut: boolean;
  childShardIds: string[];
  recordsRead: number;
  bytesRead: number;
  batchesDelivered: number;
  getRecordsCalls: number;
  throttles: number;
  iteratorRefreshes: number;
  checkpointChain: Promise<void>;
}

interface Delivery {
  readonly batch: ShardBatch;
  readonly shard: ShardState;
  readonly atTip: boolean;
  readonly settle: (outcome: 'released' | 'discarded') => void;
  checkpointed: boolean;
  /** A checkpoint of this batch failed (e.g. lease lost): stop() no longer waits for it. */
  checkpointFailed: boolean;
}

type Phase = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

interface Totals {
  recordsRead: number;
  bytesRead: number;
  batchesDelivered: number;
  getRecordsCalls: number;
  throttles: number;
  iteratorRefreshes: number;
  transientErrors: number;
  shardStarts: number;
  shardEnds: number;
  checkpointsWritten: number;
  checkpointsExpired: number;
  discoveries: number;
}

function toRecord(r: _Record): KinesisRecord {
  const record: {
    sequenceNumber: string;
    partitionKey: string;
    data: Uint8Array;
    approximateArrivalTimestamp: Date;
    encryptionType?: string;
  } = {
    sequenceNumber: r.SequenceNumber ?? '',
    partitionKey: r.PartitionKey ?? '',
    data: r.Data ?? new Uint8Array(0),
    approximateArrivalTimestamp: r.ApproximateArrivalTimestamp ?? new Date(0),
  };
  if (r.EncryptionType !== undefined) record.encryptionType = r.EncryptionType;
  return record;
}

function isPositionList(
  value: CheckpointPosition | readonly CheckpointPosition[],
): value is readonly CheckpointPosition[] {
  return Array.isArray(value);
}

function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : '';
}

function asError(err: unknown): Error {
  return err instanceof Error ? (stripAwsResponse(err) as Error) : new Error(String(err));
}

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
  readonly #o: ResolvedOptions;
  readonly #shards = new Map<string, ShardState>();
  readonly #abort = new AbortController();
  readonly #loops = new Set<Promise<void>>();
  readonly #pendingCheckpoints = new Set<Promise<void>>();
  readonly #queue: Delivery[] = [];
  readonly #totals: Totals = {
    recordsRead: 0,
    bytesRead: 0,
    batchesDelivered: 0,
    getRecordsCalls: 0,
    throttles: 0,
    iteratorRefreshes: 0,
    transientErrors: 0,
    shardStarts: 0,
    shardEnds: 0,
    checkpointsWritten: 0,
    checkpointsExpired: 0,
    discoveries: 0,
  };
  #phase: Phase = 'new';
  #startupCheckpoints: ReadonlyMap<string, Checkpoint> = new Map();
  #current: Delivery | undefined;
  #wake: (() => void) | undefined;
  #currentWaiters: Array<() => void> = [];
  #failure: Error | undefined;
  #iterated = false;
  #caughtUp = false;
  #reportedExpiredShards = false;
  #useDescribeStream = false;
  #discovering: Promise<void> | undefined;
  #discoverAgain = false;
  #stopPromise: Promise<void> | undefined;
  #startPromise: Promise<void> | undefined;
  #registrations = 0;
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
    this.#o = resolveOptions(options);
    const signal = this.#o.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.#phase = 'stopped';
      else {
        this.#onSignalAbort = () => void this.stop();
        signal.addEventListener('abort', this.#onSignalAbort, { once: true });
      }
    }
  }

  /** True once every open shard has reached its tip at least once (see the `caughtUp` event). */
  get caughtUp(): boolean {
    return this.#caughtUp;
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
        `KinesisShardReader for ${this.#o.streamLabel} is already being consumed: iterate it once (or call run() once), and create a new reader to read again.`,
      );
    }
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: async () => {
        this.#releaseCurrent();
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
    const list: readonly CheckpointPosition[] = isPositionList(positions) ? positions : [positions];
    const withState = options !== null && typeof options === 'object' && 'state' in options;
    const planned = new Map<ShardState, { seq: string | null; shardEnd: boolean }>();
    for (const position of list) {
      const shard = this.#shards.get(position?.shardId);
      if (shard === undefined) {
        return Promise.reject(
          new ReaderStateError(
            `cannot checkpoint shard ${String(position?.shardId)}: this reader of ${this.#o.streamLabel} has not read it. Checkpoint only batches this reader returned.`,
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
      const store = this.#o.checkpointStore;
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
      this.#totals.checkpointsWritten += 1;
      for (const { shard, seq, newer, endNow } of applied) {
        if (newer) shard.checkpointSeq = seq;
        this.emit('checkpointed', { shardId: shard.id, sequenceNumber: seq, shardEnd: endNow });
        if (endNow) {
          shard.checkpointShardEnd = true;
          if (shard.status === 'ended') shard.status = 'finished';
          this.#o.logger?.info('shard finished (SHARD_END stored)', { shardId: shard.id });
          this.emit('shardFinished', { shardId: shard.id });
        }
      }
      if (applied.some((a) => a.endNow) && this.#isRunning()) this.#schedule();
    };
    const result = Promise.all(shards.map((s) => s.checkpointChain)).then(write);
    const chained = result.catch(() => undefined);
    for (const s of shards) s.checkpointChain = chained;
    this.#pendingCheckpoints.add(result);
    const current = this.#current;
    /** Records the outcome on the batch in hand, when this checkpoint covered it. */
    const settle = (ok: boolean): void => {
      this.#pendingCheckpoints.delete(result);
      if (
        current === undefined ||
        current !== this.#current ||
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
      this.#notifyCurrentWaiters();
    };
    void result.then(
      () => settle(true),
      () => settle(false),
    );
    return result;
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
    if (this.#phase === 'new' || this.#phase === 'stopped') {
      this.#phase = 'stopped';
      this.#stopPromise = Promise.resolve().then(() => {
        this.emit('stopped');
      });
      return this.#stopPromise;
    }
    this.#phase = 'stopping';
    this.#abort.abort();
    for (const d of this.#queue.splice(0)) d.settle('discarded');
    this.#wakeUp();
    this.#stopPromise = (async () => {
      await this.#startPromise?.catch(() => undefined);
      while (
        this.#current !== undefined &&
        !this.#current.checkpointed &&
        !this.#current.checkpointFailed
      ) {
        await new Promise<void>((resolve) => this.#currentWaiters.push(resolve));
      }
      // A checkpointed batch is finished even if the caller has not asked for the next one
      // (it may be awaiting stop() in its loop body): let its shard loop end.
      this.#current?.settle('released');
      while (this.#loops.size > 0) await Promise.allSettled([...this.#loops]);
      await Promise.allSettled([...this.#pendingCheckpoints]);
      this.#phase = 'stopped';
      this.#o.logger?.info('reader stopped', { stream: this.#o.streamLabel });
      this.emit('stopped');
    })();
    return this.#stopPromise;
  }

  #detachSignal(): void {
    const listener = this.#onSignalAbort;
    if (listener === undefined) return;
    this.#onSignalAbort = undefined;
    this.#o.signal?.removeEventListener('abort', listener);
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
    for (const s of this.#shards.values()) {
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
    return { ...this.#totals, maxMillisBehindLatest: maxLag, caughtUp: this.#caughtUp, shards };
  }

  // ---------------------------------------------------------------- consumption

  async #next(): Promise<IteratorResult<ShardBatch, undefined>> {
    this.#releaseCurrent();
    if (this.#phase === 'new') {
      this.#startPromise = this.#start();
      try {
        await this.#startPromise;
      } catch (err) {
        this.#fail(err);
      }
    }
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const d = this.#queue.shift();
      if (d !== undefined) {
        this.#current = d;
        if (d.batch.records.length > 0) d.shard.lastDeliveredSeq = d.batch.lastSequenceNumber;
        d.shard.batchesDelivered += 1;
        this.#totals.batchesDelivered += 1;
        if (d.batch.shardEnded && this.#o.childShardStart === 'parent-delivered') {
          // children may start now: their batches queue up behind this one
          d.shard.finalHandedOut = true;
          this.#schedule();
        }
        return { done: false, value: d.batch };
      }
      if (this.#phase === 'stopping' || this.#phase === 'stopped') {
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #releaseCurrent(): void {
    const d = this.#current;
    if (d === undefined) return;
    this.#current = undefined;
    d.settle('released');
    if (d.atTip) this.#markTip(d.shard);
    this.#notifyCurrentWaiters();
  }

  #notifyCurrentWaiters(): void {
    for (const w of this.#currentWaiters.splice(0)) w();
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  #deliver(
    shard: ShardState,
    batch: ShardBatch,
    atTip: boolean,
  ): Promise<'released' | 'discarded'> {
    if (!this.#isRunning()) return Promise.resolve('discarded');
    return new Promise((resolve) => {
      this.#queue.push({
        batch,
        shard,
        atTip,
        settle: resolve,
        checkpointed: false,
        checkpointFailed: false,
      });
      this.#wakeUp();
    });
  }

  #isRunning(): boolean {
    return this.#phase === 'running';
  }

  #fail(err: unknown): void {
    if (this.#failure !== undefined) return;
    if (this.#phase === 'stopping' || this.#phase === 'stopped') {
      // Errors of calls cut short by stop() are expected.
      this.#o.logger?.debug('error while stopping', { error: asError(err).message });
      return;
    }
    this.#failure = asError(err);
    this.#o.logger?.error('reader failed', {
      stream: this.#o.streamLabel,
      error: this.#failure.message,
    });
    void this.stop();
    this.#wakeUp();
  }

  // ---------------------------------------------------------------- start and discovery

  async #start(): Promise<void> {
    this.#phase = 'starting';
    const { stream, client } = this.#o;
    if (stream.region !== undefined) {
      const configured = client.config.region;
      const region = typeof configured === 'function' ? await configured() : configured;
      if (region !== stream.region) {
        throw new InvalidOptionsError([
          {
            path: 'stream',
            message: `the ARN's region ${stream.region} differs from the client's region ${String(region)}; create the client with region: '${stream.region}'`,
          },
        ]);
      }
    }
    try {
      await this.#call('DescribeStreamSummary', undefined, (abortSignal) =>
        client.send(new DescribeStreamSummaryCommand({ ...streamParam(stream) }), { abortSignal }),
      );
    } catch (err) {
      if (this.#abort.signal.aborted) return;
      if (classifyError(err) === 'not-found') {
        throw new StreamNotFoundError(this.#o.streamLabel, { cause: err });
      }
      throw new ReadFailedError(this.#o.streamLabel, 'DescribeStreamSummary', undefined, {
        cause: err,
      });
    }
    try {
      this.#startupCheckpoints = await this.#o.checkpointStore.getAll();
    } catch (err) {
      throw new ReadFailedError(this.#o.streamLabel, 'checkpointStore.getAll', undefined, {
        cause: err,
      });
    }
    if (this.#abort.signal.aborted) return;
    this.#phase = 'running';
    this.#o.logger?.info('reader started', {
      stream: this.#o.streamLabel,
      checkpoints: this.#startupCheckpoints.size,
    });
    await this.#discover();
    this.#track(this.#discoveryLoop());
  }

  #track(loop: Promise<void>): void {
    const tracked = loop.catch((err: unknown) => this.#fail(err));
    this.#loops.add(tracked);
    void tracked.finally(() => this.#loops.delete(tracked));
  }

  async #discoveryLoop(): Promise<void> {
    while (this.#isRunning()) {
      if (!(await this.#sleep(this.#o.shardDiscoveryIntervalMs))) return;
      try {
        await this.#discover();
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        throw err;
      }
    }
  }

  /** Lists shards (serialised: a request during a listing runs one more listing after it). */
  #discover(): Promise<void> {
    if (this.#discovering !== undefined) {
      this.#discoverAgain = true;
      return this.#discovering;
    }
    const run = async (): Promise<void> => {
      do {
        this.#discoverAgain = false;
        await this.#discoverOnce();
      } while (this.#discoverAgain && this.#isRunning());
    };
    this.#discovering = run().finally(() => {
      this.#discovering = undefined;
    });
    return this.#discovering;
  }

  async #discoverOnce(): Promise<void> {
    // Shards registered after this point (from ChildShards while the listing is under way) may
    // be missing from its answer without being gone.
    const knownBefore = this.#registrations;
    const listed = await this.#listShards();
    if (!this.#isRunning()) return;
    this.#totals.discoveries += 1;
    const listedIds = new Set<string>();
    const added: string[] = [];
    for (const shard of listed) {
      const id = shard.ShardId;
      if (id === undefined) continue;
      listedIds.add(id);
      const parentIds = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
        (p): p is string => p !== undefined,
      );
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      const known = this.#shards.get(id);
      if (known !== undefined) {
        known.closed ||= closed;
        if (known.status === 'gone' && known.goneFromListing && !this.#childStarted(id)) {
          // An earlier listing that missed it was wrong or stale: it still exists.
          known.status = 'pending';
          known.goneFromListing = false;
          known.lastReadSeq = null;
          known.startPosition = undefined;
          this.#o.logger?.info('shard listed again; no longer treated as gone', { shardId: id });
        }
        continue;
      }
      this.#register(id, parentIds, closed);
      added.push(id);
    }
    for (const s of this.#shards.values()) {
      if (s.status === 'pending' && !listedIds.has(s.id) && s.registeredAt <= knownBefore) {
        s.status = 'gone';
        s.goneFromListing = true;
      }
    }
    if (!this.#reportedExpiredShards) {
      this.#reportedExpiredShards = true;
      for (const [shardId, cp] of this.#startupCheckpoints) {
        if (listedIds.has(shardId) || cp.shardEnd || cp.sequenceNumber === null) continue;
        this.#reportExpired(
          new CheckpointExpiredError(
            this.#o.streamLabel,
            shardId,
            cp.sequenceNumber,
            'shard-expired',
          ),
        );
      }
    }
    if (added.length > 0) {
      this.#o.logger?.debug('shards discovered', { shardIds: added });
      this.emit('shardsDiscovered', { shardIds: added });
    }
    this.#schedule();
  }

  /** True when a child of `id` has started (then `id` must not be read again: parents first). */
  #childStarted(id: string): boolean {
    for (const s of this.#shards.values()) {
      if (s.parentIds.includes(id) && s.status !== 'pending' && s.status !== 'gone') return true;
    }
    return false;
  }

  #register(id: string, parentIds: string[], closed: boolean): ShardState {
    const cp = this.#startupCheckpoints.get(id);
    const state: ShardState = {
      id,
      parentIds,
      closed,
      status: cp?.shardEnd === true ? 'finished' : 'pending',
      checkpointSeq: cp?.sequenceNumber ?? null,
      checkpointShardEnd: cp?.shardEnd === true,
      readInRun: false,
      startPosition: undefined,
      latestIssuedAt: undefined,
      lastReadSeq: null,
      lastDeliveredSeq: null,
      registeredAt: ++this.#registrations,
      goneFromListing: false,
      millisBehindLatest: null,
      reachedTip: false,
      finalHandedOut: false,
      childShardIds: [],
      recordsRead: 0,
      bytesRead: 0,
      batchesDelivered: 0,
      getRecordsCalls: 0,
      throttles: 0,
      iteratorRefreshes: 0,
      checkpointChain: Promise.resolve(),
    };
    this.#shards.set(id, state);
    return state;
  }

  async #listShards(): Promise<Shard[]> {
    const { client, stream } = this.#o;
    for (let restart = 0; ; restart++) {
      const out: Shard[] = [];
      try {
        if (this.#useDescribeStream) return await this.#describeStreamShards();
        let token: string | undefined;
        do {
          const page = await this.#call('ListShards', undefined, (abortSignal) =>
            client.send(
              new ListShardsCommand(
                token === undefined ? { ...streamParam(stream) } : { NextToken: token },
              ),
              { abortSignal },
            ),
          );
          out.push(...(page.Shards ?? []));
          token = page.NextToken;
        } while (token !== undefined);
        return out;
      } catch (err) {
        const name = errorName(err);
        // The NextToken expired (a listing that took over 300 s): list again from the start,
        // without the token, a bounded number of times (classify.ts does not retry it).
        if (name === 'ExpiredNextTokenException' && restart < LIST_SHARDS_RESTARTS) {
          this.#o.logger?.warn('ListShards NextToken expired; listing again from the start', {
            restart: restart + 1,
          });
          continue;
        }
        if (name === 'UnknownOperationException' && !this.#useDescribeStream) {
          this.#o.logger?.warn(
            'ListShards is not supported by this endpoint; using DescribeStream',
          );
          this.#useDescribeStream = true;
          continue;
        }
        if (this.#abort.signal.aborted) throw err;
        if (classifyError(err) === 'not-found') {
          throw new StreamNotFoundError(this.#o.streamLabel, { cause: err });
        }
        throw new ReadFailedError(this.#o.streamLabel, 'ListShards', undefined, { cause: err });
      }
    }
  }

  async #describeStreamShards(): Promise<Shard[]> {
    const { client, stream } = this.#o;
    const out: Shard[] = [];
    let start: string | undefined;
    for (;;) {
      const page = await this.#call('DescribeStream', undefined, (abortSignal) =>
        client.send(
          new DescribeStreamCommand({
            ...streamParam(stream),
            ...(start === undefined ? {} : { ExclusiveStartShardId: start }),
          }),
          { abortSignal },
        ),
      );
      const shards = page.StreamDescription?.Shards ?? [];
      out.push(...shards);
      start = shards.at(-1)?.ShardId;
      if (page.StreamDescription?.HasMoreShards !== true || start === undefined) return out;
    }
  }

  #planContext(): PlanContext {
    return {
      statusOf: (id) => this.#shards.get(id)?.status,
      wasRead: (id) => this.#startupCheckpoints.has(id) || this.#shards.get(id)?.readInRun === true,
      initialPosition: this.#o.initialPosition,
      finalBatchHandedOut: (id) => this.#shards.get(id)?.finalHandedOut === true,
      startPositionOf: (id) => this.#shards.get(id)?.startPosition,
    };
  }

  /** Starts (or skips) every pending shard whose parents are done. */
  #schedule(): void {
    const ctx = this.#planContext();
    let changed = true;
    while (changed && this.#isRunning()) {
      changed = false;
      for (const s of this.#shards.values()) {
        if (s.status !== 'pending') continue;
        const decision = decideStart(
          {
            id: s.id,
            parentIds: s.parentIds,
            closed: s.closed,
            checkpointSequenceNumber: s.checkpointSeq,
          },
          ctx,
        );
        if (decision.action === 'skip') {
          s.status = 'skipped';
          this.#o.logger?.debug('closed shard skipped (initial position LATEST)', {
            shardId: s.id,
          });
          changed = true;
        } else if (decision.action === 'start') {
          this.#startShard(s, decision.position);
        }
      }
    }
    this.#checkCaughtUp();
  }

  #startShard(s: ShardState, position: IteratorPosition): void {
    s.status = 'reading';
    s.readInRun = true;
    s.startPosition = position;
    this.#totals.shardStarts += 1;
    this.#o.logger?.debug('shard started', { shardId: s.id, position: position.type });
    this.emit('shardStarted', { shardId: s.id, position });
    this.#track(this.#runShard(s));
  }

  #markTip(s: ShardState): void {
    if (s.reachedTip) return;
    s.reachedTip = true;
    this.#checkCaughtUp();
  }

  #checkCaughtUp(): void {
    if (this.#caughtUp || !this.#isRunning()) return;
    const active = [...this.#shards.values()].filter(
      (s) => s.status === 'pending' || s.status === 'reading' || s.status === 'ended',
    );
    if (!active.every((s) => s.reachedTip)) return;
    this.#caughtUp = true;
    const shardIds = active.filter((s) => s.status === 'reading').map((s) => s.id);
    this.#o.logger?.info('every shard reached its tip', { shardIds });
    this.emit('caughtUp', { shardIds });
  }

  // ---------------------------------------------------------------- reading one shard

  async #runShard(s: ShardState): Promise<void> {
    let iterator = await this.#openIterator(s, s.startPosition ?? { type: 'TRIM_HORIZON' });
    let throttles = 0;
    let transient = 0;
    let lastFetchStart = 0;
    let atTip = false;
    const { maxRecords, minBackToBackMs, idleIntervalMs } = this.#o;
    while (iterator !== undefined && this.#isRunning()) {
      if (lastFetchStart > 0) {
        const spacing = atTip ? Math.max(idleIntervalMs, minBackToBackMs) : minBackToBackMs;
        const wait = lastFetchStart + spacing - Date.now();
        if (wait > 0 && !(await this.#sleep(wait))) return;
      }
      lastFetchStart = Date.now();
      let out: GetRecordsCommandOutput;
      try {
        out = await this.#getRecords(iterator);
      } catch (err) {
        const kind = this.#kindOf(err);
        if (kind === 'aborted') return;
        if (kind === 'throttle') {
          throttles += 1;
          await this.#onThrottle(s.id, 'GetRecords', throttles, s);
          continue;
        }
        if (kind === 'expired-iterator') {
          iterator = await this.#refreshIterator(s);
          continue;
        }
        if (kind === 'transient') {
          transient += 1;
          await this.#onTransient(s.id, 'GetRecords', transient, asError(err));
          continue;
        }
        if (kind === 'not-found') {
          // The shard expired while being read (far behind on a closed shard). If the whole
          // stream is gone, the discovery that follows fails with StreamNotFoundError.
          this.#o.logger?.warn('shard no longer exists (expired) while being read', {
            shardId: s.id,
          });
          s.status = 'gone';
          this.#schedule();
          this.#track(this.#discover());
          return;
        }
        throw new ReadFailedError(this.#o.streamLabel, 'GetRecords', s.id, { cause: err });
      }
      throttles = 0;
      transient = 0;
      s.getRecordsCalls += 1;
      this.#totals.getRecordsCalls += 1;
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
      atTip = ended || (millis === 0 && records.length < maxRecords);
      s.millisBehindLatest = millis;
      s.recordsRead += records.length;
      s.bytesRead += bytes;
      this.#totals.recordsRead += records.length;
      this.#totals.bytesRead += bytes;
      this.emit('lag', { shardId: s.id, millisBehindLatest: millis, records: records.length });
      const lastFetched = records.at(-1)?.sequenceNumber;
      if (lastFetched !== undefined) s.lastReadSeq = lastFetched;

      if (ended) {
        await this.#onShardEnd(s, out.ChildShards);
        if (!this.#isRunning()) return;
      }
      if (records.length > 0 || ended) {
        const batch = this.#makeBatch(s, records, millis, ended, atTip);
        const outcome = await this.#deliver(s, batch, atTip);
        if (outcome === 'discarded') return;
      } else if (atTip) {
        this.#markTip(s);
      }
      if (ended) return;
      iterator = next;
    }
  }

  #makeBatch(
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
      checkpoint: () => this.checkpoint(batch),
    };
    return batch;
  }

  async #onShardEnd(s: ShardState, childShards: ChildShard[] | undefined): Promise<void> {
    s.status = 'ended';
    this.#totals.shardEnds += 1;
    if (childShards !== undefined && childShards.length > 0) {
      for (const c of childShards) {
        if (c.ShardId === undefined) continue;
        if (!this.#shards.has(c.ShardId))
          this.#register(c.ShardId, [...(c.ParentShards ?? [])], false);
      }
      s.childShardIds = childShards.flatMap((c) => (c.ShardId === undefined ? [] : [c.ShardId]));
      this.#schedule();
    } else {
      try {
        await this.#discover();
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        throw err;
      }
      s.childShardIds = [...this.#shards.values()]
        .filter((c) => c.parentIds.includes(s.id))
        .map((c) => c.id);
    }
    this.#o.logger?.info('shard read to its end', {
      shardId: s.id,
      childShardIds: s.childShardIds,
    });
    this.emit('shardEnded', {
      shardId: s.id,
      childShardIds: s.childShardIds,
      lastSequenceNumber: s.lastReadSeq ?? s.checkpointSeq,
    });
  }

  async #getRecords(iterator: string): Promise<GetRecordsCommandOutput> {
    const { client, stream, maxRecords, getRecordsMaxAttempts } = this.#o;
    const command = capAttempts(
      new GetRecordsCommand({
        ShardIterator: iterator,
        Limit: maxRecords,
        ...(stream.arn === undefined ? {} : { StreamARN: stream.arn }),
      }),
      getRecordsMaxAttempts,
    );
    const request = this.#requestSignal();
    try {
      return await client.send(command, { abortSignal: request.signal });
    } catch (err) {
      throw unwrapAttempts(err);
    } finally {
      request.done();
    }
  }

  /** Gets an iterator; a rejected checkpoint is reported and the shard restarts at TRIM_HORIZON. */
  async #openIterator(s: ShardState, position: IteratorPosition): Promise<string | undefined> {
    try {
      return await this.#getIterator(s, position);
    } catch (err) {
      if (this.#abort.signal.aborted) return undefined;
      const kind = classifyError(err);
      if (position.type === 'AFTER_SEQUENCE_NUMBER' && kind === 'invalid-argument') {
        this.#reportExpired(
          new CheckpointExpiredError(
            this.#o.streamLabel,
            s.id,
            position.sequenceNumber,
            'sequence-rejected',
            { cause: err },
          ),
        );
        const restart: IteratorPosition = { type: 'TRIM_HORIZON' };
        s.startPosition = restart;
        s.lastReadSeq = null;
        return await this.#openIterator(s, restart);
      }
      if (kind === 'not-found') {
        this.#o.logger?.warn('shard no longer exists (expired); treating it as finished', {
          shardId: s.id,
        });
        s.status = 'gone';
        this.#schedule();
        return undefined;
      }
      throw new ReadFailedError(this.#o.streamLabel, 'GetShardIterator', s.id, { cause: err });
    }
  }

  async #refreshIterator(s: ShardState): Promise<string | undefined> {
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
    this.#totals.iteratorRefreshes += 1;
    this.#o.logger?.debug('iterator expired; getting a new one', {
      shardId: s.id,
      position: position.type,
    });
    this.emit('iteratorRefreshed', { shardId: s.id, position });
    return await this.#openIterator(s, position);
  }

  async #getIterator(s: ShardState, position: IteratorPosition): Promise<string> {
    const { client, stream } = this.#o;
    const out = await this.#call('GetShardIterator', s.id, (abortSignal) =>
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
      throw new ReadFailedError(this.#o.streamLabel, 'GetShardIterator', s.id, {
        cause: new Error('the response carried no ShardIterator'),
      });
    }
    return out.ShardIterator;
  }

  #reportExpired(error: CheckpointExpiredError): void {
    this.#totals.checkpointsExpired += 1;
    this.#o.logger?.error(error.message, {
      shardId: error.shardId,
      sequenceNumber: error.sequenceNumber,
    });
    this.emit('checkpointExpired', {
      shardId: error.shardId,
      sequenceNumber: error.sequenceNumber,
      error,
    });
  }

  // ---------------------------------------------------------------- retries and timing

  /** Calls `fn`, retrying throttling and transient errors with backoff until stopped. */
  async #call<T>(
    operation: string,
    shardId: string | undefined,
    fn: (abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    let throttles = 0;
    let transient = 0;
    for (;;) {
      const request = this.#requestSignal();
      try {
        return await fn(request.signal);
      } catch (err) {
        const kind = this.#kindOf(err);
        if (kind === 'throttle') {
          throttles += 1;
          await this.#onThrottle(shardId, operation, throttles, undefined);
        } else if (kind === 'transient') {
          transient += 1;
          await this.#onTransient(shardId, operation, transient, asError(err));
        } else {
          throw err;
        }
        if (this.#abort.signal.aborted) throw err;
      } finally {
        request.done();
      }
    }
  }

  #kindOf(err: unknown): ErrorKind {
    const kind = classifyError(err);
    if (kind === 'aborted') return this.#abort.signal.aborted ? 'aborted' : 'transient';
    return kind;
  }

  async #onThrottle(
    shardId: string | undefined,
    operation: string,
    consecutive: number,
    shard: ShardState | undefined,
  ): Promise<void> {
    const delayMs = backoffDelay(consecutive, this.#o.throttleBackoff);
    this.#totals.throttles += 1;
    if (shard !== undefined) shard.throttles += 1;
    if (consecutive % this.#o.warnAfterThrottles === 0) {
      this.#o.logger?.warn(`${operation} throttled ${consecutive} times in a row`, {
        shardId,
        delayMs,
      });
    }
    this.emit('throttled', { shardId, operation, consecutive, delayMs });
    await this.#sleep(delayMs);
  }

  async #onTransient(
    shardId: string | undefined,
    operation: string,
    attempt: number,
    error: Error,
  ): Promise<void> {
    const delayMs = backoffDelay(attempt, this.#o.throttleBackoff);
    this.#totals.transientErrors += 1;
    this.#o.logger?.warn(`${operation} failed transiently; retrying`, {
      shardId,
      attempt,
      delayMs,
      error: `${error.name}: ${error.message}`,
    });
    this.emit('retrying', { shardId, operation, attempt, delayMs, error });
    await this.#sleep(delayMs);
  }

  /** A signal for one request: aborted on stop, or after `requestTimeoutMs`. */
  #requestSignal(): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    const stop = this.#abort.signal;
    const onStop = (): void => controller.abort();
    if (stop.aborted) controller.abort();
    else stop.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(() => controller.abort(), this.#o.requestTimeoutMs);
    return {
      signal: controller.signal,
      done: () => {
        clearTimeout(timer);
        stop.removeEventListener('abort', onStop);
      },
    };
  }

  /** Sleeps `ms`; resolves false at once when the reader stops. */
  #sleep(ms: number): Promise<boolean> {
    const stop = this.#abort.signal;
    if (stop.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onStop = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        stop.removeEventListener('abort', onStop);
        resolve(true);
      }, ms);
      stop.addEventListener('abort', onStop, { once: true });
    });
  }
}
