/**
 * Start-up, shard discovery (ListShards, or DescribeStream where ListShards is missing) and
 * scheduling: which shard starts when (parents first, see plan.ts), and when the reader is
 * caught up.
 */
import {
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { call, sleep } from './calls.js';
import { classifyError } from './classify.js';
import { fail, isRunning } from './delivery.js';
import {
  CheckpointExpiredError,
  InvalidOptionsError,
  ReadFailedError,
  StreamNotFoundError,
} from './errors.js';
import {
  errorName,
  LIST_SHARDS_RESTARTS,
  type ReaderInternals,
  type ShardState,
} from './internals.js';
import { decideStart, type PlanContext } from './plan.js';
import { reportExpired, runShard } from './shard-loop.js';
import { streamParam } from './stream-ref.js';
import type { IteratorPosition } from './types.js';

export async function start(r: ReaderInternals): Promise<void> {
  r.phase = 'starting';
  const { stream, client } = r.o;
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
    await call(r, 'DescribeStreamSummary', undefined, (abortSignal) =>
      client.send(new DescribeStreamSummaryCommand({ ...streamParam(stream) }), { abortSignal }),
    );
  } catch (err) {
    if (r.abort.signal.aborted) return;
    if (classifyError(err) === 'not-found') {
      throw new StreamNotFoundError(r.o.streamLabel, { cause: err });
    }
    throw new ReadFailedError(r.o.streamLabel, 'DescribeStreamSummary', undefined, {
      cause: err,
    });
  }
  try {
    r.startupCheckpoints = await r.o.checkpointStore.getAll();
  } catch (err) {
    throw new ReadFailedError(r.o.streamLabel, 'checkpointStore.getAll', undefined, {
      cause: err,
    });
  }
  if (r.abort.signal.aborted) return;
  r.phase = 'running';
  r.o.logger?.info('reader started', {
    stream: r.o.streamLabel,
    checkpoints: r.startupCheckpoints.size,
  });
  await discover(r);
  track(r, discoveryLoop(r));
}

export function track(r: ReaderInternals, loop: Promise<void>): void {
  const tracked = loop.catch((err: unknown) => fail(r, err));
  r.loops.add(tracked);
  void tracked.finally(() => r.loops.delete(tracked));
}

export async function discoveryLoop(r: ReaderInternals): Promise<void> {
  while (isRunning(r)) {
    if (!(await sleep(r, r.o.shardDiscoveryIntervalMs))) return;
    try {
      await discover(r);
    } catch (err) {
      if (r.abort.signal.aborted) return;
      throw err;
    }
  }
}

/** Lists shards (serialised: a request during a listing runs one more listing after it). */
export function discover(r: ReaderInternals): Promise<void> {
  if (r.discovering !== undefined) {
    r.discoverAgain = true;
    return r.discovering;
  }
  const run = async (): Promise<void> => {
    do {
      r.discoverAgain = false;
      await discoverOnce(r);
    } while (r.discoverAgain && isRunning(r));
  };
  r.discovering = run().finally(() => {
    r.discovering = undefined;
  });
  return r.discovering;
}

export async function discoverOnce(r: ReaderInternals): Promise<void> {
  // Shards registered after this point (from ChildShards while the listing is under way) may
  // be missing from its answer without being gone.
  const knownBefore = r.registrations;
  const listed = await listShards(r);
  if (!isRunning(r)) return;
  r.totals.discoveries += 1;
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
    const known = r.shards.get(id);
    if (known !== undefined) {
      known.closed ||= closed;
      if (known.status === 'gone' && known.goneFromListing && !childStarted(r, id)) {
        // An earlier listing that missed it was wrong or stale: it still exists.
        known.status = 'pending';
        known.goneFromListing = false;
        known.lastReadSeq = null;
        known.startPosition = undefined;
        r.o.logger?.info('shard listed again; no longer treated as gone', { shardId: id });
      }
      continue;
    }
    register(r, id, parentIds, closed);
    added.push(id);
  }
  for (const s of r.shards.values()) {
    if (s.status === 'pending' && !listedIds.has(s.id) && s.registeredAt <= knownBefore) {
      s.status = 'gone';
      s.goneFromListing = true;
    }
  }
  if (!r.reportedExpiredShards) {
    r.reportedExpiredShards = true;
    for (const [shardId, cp] of r.startupCheckpoints) {
      if (listedIds.has(shardId) || cp.shardEnd || cp.sequenceNumber === null) continue;
      reportExpired(
        r,
        new CheckpointExpiredError(r.o.streamLabel, shardId, cp.sequenceNumber, 'shard-expired'),
      );
    }
  }
  if (added.length > 0) {
    r.o.logger?.debug('shards discovered', { shardIds: added });
    r.emit('shardsDiscovered', { shardIds: added });
  }
  schedule(r);
}

/** True when a child of `id` has started (then `id` must not be read again: parents first). */
export function childStarted(r: ReaderInternals, id: string): boolean {
  for (const s of r.shards.values()) {
    if (s.parentIds.includes(id) && s.status !== 'pending' && s.status !== 'gone') return true;
  }
  return false;
}

export function register(
  r: ReaderInternals,
  id: string,
  parentIds: string[],
  closed: boolean,
): ShardState {
  const cp = r.startupCheckpoints.get(id);
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
    registeredAt: ++r.registrations,
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
  r.shards.set(id, state);
  return state;
}

export async function listShards(r: ReaderInternals): Promise<Shard[]> {
  const { client, stream } = r.o;
  for (let restart = 0; ; restart++) {
    const out: Shard[] = [];
    try {
      if (r.useDescribeStream) return await describeStreamShards(r);
      let token: string | undefined;
      do {
        const page = await call(r, 'ListShards', undefined, (abortSignal) =>
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
        r.o.logger?.warn('ListShards NextToken expired; listing again from the start', {
          restart: restart + 1,
        });
        continue;
      }
      if (name === 'UnknownOperationException' && !r.useDescribeStream) {
        r.o.logger?.warn('ListShards is not supported by this endpoint; using DescribeStream');
        r.useDescribeStream = true;
        continue;
      }
      if (r.abort.signal.aborted) throw err;
      if (classifyError(err) === 'not-found') {
        throw new StreamNotFoundError(r.o.streamLabel, { cause: err });
      }
      throw new ReadFailedError(r.o.streamLabel, 'ListShards', undefined, { cause: err });
    }
  }
}

export async function describeStreamShards(r: ReaderInternals): Promise<Shard[]> {
  const { client, stream } = r.o;
  const out: Shard[] = [];
  let start: string | undefined;
  for (;;) {
    const page = await call(r, 'DescribeStream', undefined, (abortSignal) =>
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

export function planContext(r: ReaderInternals): PlanContext {
  return {
    statusOf: (id) => r.shards.get(id)?.status,
    wasRead: (id) => r.startupCheckpoints.has(id) || r.shards.get(id)?.readInRun === true,
    initialPosition: r.o.initialPosition,
    finalBatchHandedOut: (id) => r.shards.get(id)?.finalHandedOut === true,
    startPositionOf: (id) => r.shards.get(id)?.startPosition,
  };
}

/** Starts (or skips) every pending shard whose parents are done. */
export function schedule(r: ReaderInternals): void {
  const ctx = planContext(r);
  let changed = true;
  while (changed && isRunning(r)) {
    changed = false;
    for (const s of r.shards.values()) {
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
        r.o.logger?.debug('closed shard skipped (initial position LATEST)', {
          shardId: s.id,
        });
        changed = true;
      } else if (decision.action === 'start') {
        startShard(r, s, decision.position);
      }
    }
  }
  checkCaughtUp(r);
}

export function startShard(r: ReaderInternals, s: ShardState, position: IteratorPosition): void {
  s.status = 'reading';
  s.readInRun = true;
  s.startPosition = position;
  r.totals.shardStarts += 1;
  r.o.logger?.debug('shard started', { shardId: s.id, position: position.type });
  r.emit('shardStarted', { shardId: s.id, position });
  track(r, runShard(r, s));
}

export function markTip(r: ReaderInternals, s: ShardState): void {
  if (s.reachedTip) return;
  s.reachedTip = true;
  checkCaughtUp(r);
}

export function checkCaughtUp(r: ReaderInternals): void {
  if (r.caughtUp || !isRunning(r)) return;
  const active = [...r.shards.values()].filter(
    (s) => s.status === 'pending' || s.status === 'reading' || s.status === 'ended',
  );
  if (!active.every((s) => s.reachedTip)) return;
  r.caughtUp = true;
  const shardIds = active.filter((s) => s.status === 'reading').map((s) => s.id);
  r.o.logger?.info('every shard reached its tip', { shardIds });
  r.emit('caughtUp', { shardIds });
}
