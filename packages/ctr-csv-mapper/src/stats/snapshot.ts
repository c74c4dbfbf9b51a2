/**
 * The serialized form of a partial statistics result (`IntervalStatsAccumulator.toSnapshot`).
 */
import { z } from 'zod';
import type { ArnMode, IntervalMinutes } from '../types.js';

/** The snapshot format of {@link IntervalStatsAccumulator.toSnapshot} (JSON-serializable). */
export interface IntervalStatsSnapshot {
  /** Format version. */
  readonly version: 1;
  /** The settings the snapshot was computed with. */
  readonly options: {
    readonly intervalMinutes: IntervalMinutes;
    readonly slaSeconds: number;
    readonly shortAbandonSeconds: number;
    readonly arn: ArnMode;
  };
  /** Records added (duplicates included). */
  readonly recordsAdded: number;
  /** Duplicates met so far. */
  readonly duplicates: number;
  /**
   * One entry per distinct ContactId: `[contactId, lastUpdateMs|null, intervalMs, queueId,
   * queueName, agent, answered, talk, acw, queueDuration|null, overflowIn, transferOut]`.
   */
  readonly contacts: ReadonlyArray<
    readonly [
      string,
      number | null,
      number,
      string,
      string,
      string,
      boolean,
      number,
      number,
      number | null,
      boolean,
      boolean,
    ]
  >;
}

export const snapshotSchema = z.strictObject({
  version: z.literal(1),
  options: z.strictObject({
    intervalMinutes: z.union([z.literal(15), z.literal(30), z.literal(60)]),
    slaSeconds: z.number().nonnegative(),
    shortAbandonSeconds: z.number().nonnegative(),
    arn: z.enum(['id', 'full']),
  }),
  recordsAdded: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  contacts: z.array(
    z.tuple([
      z.string().min(1),
      z.number().nullable(),
      z.number().int(),
      z.string(),
      z.string(),
      z.string(),
      z.boolean(),
      z.number(),
      z.number(),
      z.number().nullable(),
      z.boolean(),
      z.boolean(),
    ]),
  ),
});
