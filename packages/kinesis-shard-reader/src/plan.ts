/**
 * Which shard may start, and where: the parent-before-child rule, kept free of I/O so it can be
 * property-tested.
 */
import type { InitialPosition, IteratorPosition, ShardStatus } from './types.js';

/** What the planner needs to know about one shard. */
export interface PlannedShard {
  readonly id: string;
  /** `ParentShardId` and `AdjacentParentShardId`, when present. */
  readonly parentIds: readonly string[];
  /** True when the shard has an ending sequence number (closed by a split or merge). */
  readonly closed: boolean;
  /** The stored checkpoint's sequence number, if any. */
  readonly checkpointSequenceNumber: string | null;
}

/** What the planner needs to know about the other shards. */
export interface PlanContext {
  /** Status of a known shard; undefined when the shard is not listed (expired). */
  statusOf(shardId: string): ShardStatus | undefined;
  /** True when this application read the shard (it has a checkpoint, or was read in this run). */
  wasRead(shardId: string): boolean;
  /** The configured initial position. */
  readonly initialPosition: InitialPosition;
  /**
   * True when the shard's final batch was handed to the caller and children may start then
   * (`childShardStart: 'parent-delivered'`). @default () => false
   */
  finalBatchHandedOut?(shardId: string): boolean;
  /** Where the shard's reading started in this run, when it was started. */
  startPositionOf?(shardId: string): IteratorPosition | undefined;
}

/** The planner's answer for a pending shard. */
export type StartDecision =
  | { readonly action: 'wait' }
  | { readonly action: 'skip' }
  | { readonly action: 'start'; readonly position: IteratorPosition };

const DONE: ReadonlySet<ShardStatus | undefined> = new Set<ShardStatus | undefined>([
  'finished',
  'skipped',
  'gone',
  undefined,
]);

/**
 * Decides whether a pending shard may start now:
 * - it waits while any parent that still exists is not finished (parents that expired, or that
 *   were skipped because the initial position is LATEST, count as finished);
 * - with a checkpoint it resumes `AFTER_SEQUENCE_NUMBER`;
 * - a parent counts as done when it is finished, skipped or gone, or (with
 *   `finalBatchHandedOut`) once its final batch was handed to the caller;
 * - a child of a shard this application read starts at `TRIM_HORIZON`, except that it keeps the
 *   initial `AT_TIMESTAMP` when every read parent started there in this run;
 * - otherwise it starts at the initial position, except that a closed shard is skipped when
 *   that position is `LATEST` (nothing will ever be written to it).
 *
 * @example
 * decideStart(
 *   { id: 'shardId-000000000002', parentIds: ['shardId-000000000000'], closed: false, checkpointSequenceNumber: null },
 *   { statusOf: () => 'finished', wasRead: () => true, initialPosition: { type: 'LATEST' } },
 * ); // { action: 'start', position: { type: 'TRIM_HORIZON' } }
 */
export function decideStart(shard: PlannedShard, ctx: PlanContext): StartDecision {
  for (const parent of shard.parentIds) {
    if (!DONE.has(ctx.statusOf(parent)) && ctx.finalBatchHandedOut?.(parent) !== true) {
      return { action: 'wait' };
    }
  }
  if (shard.checkpointSequenceNumber !== null) {
    return {
      action: 'start',
      position: { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: shard.checkpointSequenceNumber },
    };
  }
  const readParents = shard.parentIds.filter((p) => ctx.wasRead(p));
  if (readParents.length > 0) {
    // Parents read from the initial AT_TIMESTAMP in this run (no checkpoint): the child keeps
    // that window instead of reading its whole retention (docs/kinesis-reader.md#resharding).
    const initial = ctx.initialPosition;
    if (
      initial.type === 'AT_TIMESTAMP' &&
      readParents.every((p) => ctx.startPositionOf?.(p)?.type === 'AT_TIMESTAMP')
    ) {
      return { action: 'start', position: { type: 'AT_TIMESTAMP', timestamp: initial.timestamp } };
    }
    return { action: 'start', position: { type: 'TRIM_HORIZON' } };
  }
  const initial = ctx.initialPosition;
  if (initial.type === 'LATEST') {
    return shard.closed ? { action: 'skip' } : { action: 'start', position: { type: 'LATEST' } };
  }
  if (initial.type === 'AT_TIMESTAMP') {
    return { action: 'start', position: { type: 'AT_TIMESTAMP', timestamp: initial.timestamp } };
  }
  return { action: 'start', position: { type: 'TRIM_HORIZON' } };
}
