import { z } from 'zod';
import { arnId, csvLine, type FirehoseItemSource } from './csv.js';
import { InvalidOptionsError, InvalidSnapshotError } from './errors.js';
import { checkOptions, statsOptionsSchema } from './options.js';
import type {
  AgentQueueStatsRow,
  ArnMode,
  CtrRecord,
  FirehoseBadItem,
  FirehoseItem,
  IntervalMinutes,
  IntervalStatsCounts,
  IntervalStatsOptions,
  QueueStatsRow,
} from './types.js';

/**
 * Interval statistics (data-mapping §3).
 *
 * De-duplication needs to know every ContactId, also across objects, so the accumulator keeps one
 * small entry per distinct ContactId (its latest version's contribution, about 300 bytes) until
 * the rows are produced. That makes `merge` exact: two partial results that share a ContactId
 * count it once. Memory therefore grows with the number of distinct contacts (not with the bytes
 * read): about 30 MB per 100,000 contacts.
 */

/** Columns of the queue statistics CSV, in order. */
export const QUEUE_STATS_COLUMNS = [
  'interval_start',
  'interval_minutes',
  'queue_id',
  'queue_name',
  'talking_call_dur',
  'wrap_up_dur',
  'overflow_in_call_cnt',
  'overflow_out_call_cnt',
  'aband_call_cnt',
  'answ_call_cnt',
  'queued_and_answ_call_dur',
  'queued_and_aband_call_dur',
  'queued_answ_longest_que_dur',
  'queued_aband_longest_que_dur',
  'avg_avail_member_cnt',
  'ans_servicelevel_cnt',
  'wait_dur',
  'aband_short_call_cnt',
  'aband_within_sl_cnt',
] as const;

/** Columns of the agent-queue statistics CSV, in order. */
export const AGENT_QUEUE_STATS_COLUMNS = [
  'interval_start',
  'interval_minutes',
  'queue_id',
  'agent_username',
  'talking_call_dur',
  'wrap_up_dur',
  'answ_call_cnt',
  'transfer_out_call_cnt',
] as const;

/** What one distinct contact contributes (its latest version). */
interface Contribution {
  /** `LastUpdateTimestamp` in epoch ms, or -Infinity when missing. */
  readonly lastUpdate: number;
  /** Interval start in epoch ms; NO_QUEUE: no Queue; NO_ENQUEUE: Queue without EnqueueTimestamp. */
  readonly interval: number;
  readonly queueId: string;
  readonly queueName: string;
  readonly agent: string;
  readonly answered: boolean;
  readonly talk: number;
  readonly acw: number;
  /** `Queue.Duration`, or null when missing (adds 0, not counted against thresholds). */
  readonly queueDuration: number | null;
  readonly overflowIn: boolean;
  readonly transferOut: boolean;
}

// Sentinels: not multiples of any interval length, so never a real interval start.
const NO_QUEUE = -1;
const NO_ENQUEUE = -2;

function counted(c: Contribution): boolean {
  return c.interval !== NO_QUEUE && c.interval !== NO_ENQUEUE;
}

function epochMs(ts: string | null | undefined): number {
  if (ts === null || ts === undefined) return Number.NEGATIVE_INFINITY;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** `2026-11-24T08:15:00Z` for an epoch-ms interval start. */
function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

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

const snapshotSchema = z.strictObject({
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

/**
 * Accumulates queue and agent-queue interval statistics (data-mapping §3) over any number of
 * records, de-duplicated by `ContactId` (latest `LastUpdateTimestamp` wins; on a tie the last one
 * added). Partial accumulators (one per S3 object) combine with {@link IntervalStatsAccumulator.merge};
 * a ContactId present in both is counted once.
 *
 * @example
 * const acc = new IntervalStatsAccumulator({ intervalMinutes: 15, slaSeconds: 20 });
 * for await (const item of readFirehoseRecords(stream, { sourceName: key })) {
 *   if (item.kind === 'record') acc.add(item.record);
 * }
 * process.stdout.write(acc.toCsv('queue'));
 */
export class IntervalStatsAccumulator {
  /** Interval length in minutes. */
  readonly intervalMinutes: IntervalMinutes;
  /** SLA threshold in seconds. */
  readonly slaSeconds: number;
  /** Short-abandon threshold in seconds. */
  readonly shortAbandonSeconds: number;
  /** How queue ids are written. */
  readonly arn: ArnMode;

  private readonly intervalMs: number;
  private readonly contacts = new Map<string, Contribution>();
  private readonly strings = new Map<string, string>();
  private recordsAdded = 0;
  private duplicates = 0;

  constructor(options: IntervalStatsOptions = {}) {
    checkOptions('interval statistics options', statsOptionsSchema, options);
    this.intervalMinutes = options.intervalMinutes ?? 15;
    this.slaSeconds = options.slaSeconds ?? 20;
    this.shortAbandonSeconds = options.shortAbandonSeconds ?? 5;
    this.arn = options.arn ?? 'id';
    this.intervalMs = this.intervalMinutes * 60_000;
  }

  /**
   * Adds one validated CTR. A record with the same `ContactId` as one already added replaces it
   * when its `LastUpdateTimestamp` is later or equal, and is dropped otherwise.
   *
   * @example
   * acc.add({ ContactId: 'c1', LastUpdateTimestamp: '2026-11-24T08:20:00Z', Queue: { EnqueueTimestamp: '2026-11-24T08:16:00Z', Duration: 12 }, Agent: null });
   */
  add(record: CtrRecord): this {
    this.recordsAdded++;
    const lastUpdate = epochMs(record.LastUpdateTimestamp);
    const prev = this.contacts.get(record.ContactId);
    if (prev !== undefined) {
      this.duplicates++;
      if (lastUpdate < prev.lastUpdate) return this;
    }
    this.contacts.set(record.ContactId, this.contribution(record, lastUpdate));
    return this;
  }

  /**
   * Adds every record item of a reader batch (bad items are ignored).
   *
   * @example
   * for await (const batch of readFirehoseBatches(stream)) acc.addItems(batch);
   */
  addItems(items: Iterable<FirehoseItem>): this {
    for (const item of items) if (item.kind === 'record') this.add(item.record);
    return this;
  }

  /**
   * Merges another partial result into this one (data-mapping §3): the other's records count as
   * read after this one's, so on a `LastUpdateTimestamp` tie the other's version wins. Both must
   * have the same settings.
   *
   * @throws {@link InvalidOptionsError} when the settings differ.
   * @example
   * const total = new IntervalStatsAccumulator();
   * for (const partial of partials) total.merge(partial);
   */
  merge(other: IntervalStatsAccumulator): this {
    const mismatches: string[] = [];
    for (const key of ['intervalMinutes', 'slaSeconds', 'shortAbandonSeconds', 'arn'] as const) {
      if (this[key] !== other[key]) {
        mismatches.push(`${key}: ${String(this[key])} here, ${String(other[key])} in the other`);
      }
    }
    if (mismatches.length > 0) throw new InvalidOptionsError('merge (settings differ)', mismatches);
    this.recordsAdded += other.recordsAdded;
    this.duplicates += other.duplicates;
    for (const [id, c] of other.contacts) {
      const mine = this.contacts.get(id);
      if (mine !== undefined) {
        this.duplicates++;
        if (c.lastUpdate < mine.lastUpdate) continue;
      }
      this.contacts.set(id, c);
    }
    return this;
  }

  /**
   * Counters: records added, distinct contacts, duplicates, and how many contacts are in or out
   * of the statistics.
   *
   * @example
   * const { duplicates, queuedContacts } = acc.counts();
   */
  counts(): IntervalStatsCounts {
    let queued = 0;
    let withoutQueue = 0;
    let withoutEnqueue = 0;
    for (const c of this.contacts.values()) {
      if (c.interval === NO_QUEUE) withoutQueue++;
      else if (c.interval === NO_ENQUEUE) withoutEnqueue++;
      else queued++;
    }
    return {
      recordsAdded: this.recordsAdded,
      distinctContacts: this.contacts.size,
      duplicates: this.duplicates,
      queuedContacts: queued,
      withoutQueue,
      withoutEnqueueTimestamp: withoutEnqueue,
    };
  }

  /**
   * Queue statistics rows, sorted by interval then queue id.
   *
   * @example
   * for (const row of acc.queueRows()) console.log(row.interval_start, row.queue_id, row.answ_call_cnt);
   */
  queueRows(): QueueStatsRow[] {
    interface Q {
      interval: number;
      queueId: string;
      queueName: string;
      nameUpdate: number;
      talk: number;
      acw: number;
      overflowIn: number;
      overflowOut: number;
      aband: number;
      answ: number;
      answDur: number;
      abandDur: number;
      answMax: number;
      abandMax: number;
      answSl: number;
      abandShort: number;
      abandSl: number;
    }
    const groups = new Map<string, Q>();
    for (const c of this.contacts.values()) {
      if (!counted(c)) continue;
      const key = `${c.interval}\u0000${c.queueId}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = {
          interval: c.interval,
          queueId: c.queueId,
          queueName: c.queueName,
          nameUpdate: c.lastUpdate,
          talk: 0,
          acw: 0,
          overflowIn: 0,
          overflowOut: 0,
          aband: 0,
          answ: 0,
          answDur: 0,
          abandDur: 0,
          answMax: 0,
          abandMax: 0,
          answSl: 0,
          abandShort: 0,
          abandSl: 0,
        };
        groups.set(key, g);
      } else if (
        c.lastUpdate > g.nameUpdate ||
        (c.lastUpdate === g.nameUpdate && c.queueName > g.queueName)
      ) {
        g.queueName = c.queueName;
        g.nameUpdate = c.lastUpdate;
      }
      if (c.overflowIn) g.overflowIn++;
      if (c.transferOut) g.overflowOut++;
      const d = c.queueDuration;
      if (c.answered) {
        g.answ++;
        g.talk += c.talk;
        g.acw += c.acw;
        if (d !== null) {
          g.answDur += d;
          if (d > g.answMax) g.answMax = d;
          if (d < this.slaSeconds) g.answSl++;
        }
      } else {
        g.aband++;
        if (d !== null) {
          g.abandDur += d;
          if (d > g.abandMax) g.abandMax = d;
          if (d < this.shortAbandonSeconds) g.abandShort++;
          if (d < this.slaSeconds) g.abandSl++;
        }
      }
    }
    return [...groups.values()]
      .sort((a, b) => a.interval - b.interval || cmp(a.queueId, b.queueId))
      .map((g) => ({
        interval_start: isoSeconds(g.interval),
        interval_minutes: this.intervalMinutes,
        queue_id: g.queueId,
        queue_name: g.queueName,
        talking_call_dur: g.talk,
        wrap_up_dur: g.acw,
        overflow_in_call_cnt: g.overflowIn,
        overflow_out_call_cnt: g.overflowOut,
        aband_call_cnt: g.aband,
        answ_call_cnt: g.answ,
        queued_and_answ_call_dur: g.answDur,
        queued_and_aband_call_dur: g.abandDur,
        queued_answ_longest_que_dur: g.answMax,
        queued_aband_longest_que_dur: g.abandMax,
        avg_avail_member_cnt: null,
        ans_servicelevel_cnt: g.answSl,
        wait_dur: null,
        aband_short_call_cnt: g.abandShort,
        aband_within_sl_cnt: g.abandSl,
      }));
  }

  /**
   * Agent-queue statistics rows (answered contacts only), sorted by interval, queue id, agent.
   *
   * @example
   * const rows = acc.agentQueueRows();
   */
  agentQueueRows(): AgentQueueStatsRow[] {
    interface A {
      interval: number;
      queueId: string;
      agent: string;
      talk: number;
      acw: number;
      answ: number;
      transferOut: number;
    }
    const groups = new Map<string, A>();
    for (const c of this.contacts.values()) {
      if (!counted(c) || !c.answered) continue;
      const key = `${c.interval}\u0000${c.queueId}\u0000${c.agent}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = {
          interval: c.interval,
          queueId: c.queueId,
          agent: c.agent,
          talk: 0,
          acw: 0,
          answ: 0,
          transferOut: 0,
        };
        groups.set(key, g);
      }
      g.answ++;
      g.talk += c.talk;
      g.acw += c.acw;
      if (c.transferOut) g.transferOut++;
    }
    return [...groups.values()]
      .sort((a, b) => a.interval - b.interval || cmp(a.queueId, b.queueId) || cmp(a.agent, b.agent))
      .map((g) => ({
        interval_start: isoSeconds(g.interval),
        interval_minutes: this.intervalMinutes,
        queue_id: g.queueId,
        agent_username: g.agent,
        talking_call_dur: g.talk,
        wrap_up_dur: g.acw,
        answ_call_cnt: g.answ,
        transfer_out_call_cnt: g.transferOut,
      }));
  }

  /**
   * The statistics as CSV text (header + rows, `\n` line endings, RFC 4180 quoting, empty fields
   * for the columns Connect cannot fill).
   *
   * @example
   * await writeFile('queue-stats.csv', acc.toCsv('queue'));
   */
  toCsv(kind: 'queue' | 'agent-queue'): string {
    if (kind === 'queue') {
      let out = csvLine(QUEUE_STATS_COLUMNS);
      for (const row of this.queueRows()) out += csvLine(QUEUE_STATS_COLUMNS.map((c) => row[c]));
      return out;
    }
    let out = csvLine(AGENT_QUEUE_STATS_COLUMNS);
    for (const row of this.agentQueueRows()) {
      out += csvLine(AGENT_QUEUE_STATS_COLUMNS.map((c) => row[c]));
    }
    return out;
  }

  /**
   * A JSON-serializable snapshot of this partial result (for example to store per S3 object and
   * merge later). Restore it with {@link IntervalStatsAccumulator.fromSnapshot}.
   *
   * @example
   * const json = JSON.stringify(acc.toSnapshot());
   * const again = IntervalStatsAccumulator.fromSnapshot(JSON.parse(json));
   */
  toSnapshot(): IntervalStatsSnapshot {
    return {
      version: 1,
      options: {
        intervalMinutes: this.intervalMinutes,
        slaSeconds: this.slaSeconds,
        shortAbandonSeconds: this.shortAbandonSeconds,
        arn: this.arn,
      },
      recordsAdded: this.recordsAdded,
      duplicates: this.duplicates,
      contacts: [...this.contacts].map(([id, c]) => [
        id,
        Number.isFinite(c.lastUpdate) ? c.lastUpdate : null,
        c.interval,
        c.queueId,
        c.queueName,
        c.agent,
        c.answered,
        c.talk,
        c.acw,
        c.queueDuration,
        c.overflowIn,
        c.transferOut,
      ]),
    };
  }

  /**
   * Restores a snapshot written by {@link IntervalStatsAccumulator.toSnapshot}.
   *
   * @throws {@link InvalidSnapshotError} when the value is not such a snapshot.
   * @example
   * const acc = IntervalStatsAccumulator.fromSnapshot(JSON.parse(await readFile('partial.json', 'utf8')));
   */
  static fromSnapshot(value: unknown): IntervalStatsAccumulator {
    const parsed = snapshotSchema.safeParse(value);
    if (!parsed.success) {
      throw new InvalidSnapshotError(
        `Not an interval statistics snapshot: ${parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ')}`,
      );
    }
    const s = parsed.data;
    const acc = new IntervalStatsAccumulator(s.options);
    acc.recordsAdded = s.recordsAdded;
    acc.duplicates = s.duplicates;
    for (const [
      id,
      lu,
      interval,
      queueId,
      queueName,
      agent,
      answered,
      talk,
      acw,
      qd,
      oi,
      to,
    ] of s.contacts) {
      acc.contacts.set(id, {
        lastUpdate: lu ?? Number.NEGATIVE_INFINITY,
        interval,
        queueId,
        queueName,
        agent,
        answered,
        talk,
        acw,
        queueDuration: qd,
        overflowIn: oi,
        transferOut: to,
      });
    }
    return acc;
  }

  /**
   * Queue ids, queue names and agent names repeat across contacts: keeping one copy of each
   * (up to a bound) makes an entry per contact much smaller.
   */
  private intern(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    if (this.strings.size < 50_000) this.strings.set(value, value);
    return value;
  }

  private contribution(record: CtrRecord, lastUpdate: number): Contribution {
    const q = record.Queue;
    const a = record.Agent;
    const answered =
      a !== null &&
      a !== undefined &&
      a.ConnectedToAgentTimestamp !== null &&
      a.ConnectedToAgentTimestamp !== undefined;
    let interval: number;
    if (q === null || q === undefined) {
      interval = NO_QUEUE;
    } else {
      const enq = epochMs(q.EnqueueTimestamp);
      interval = Number.isFinite(enq)
        ? Math.floor(enq / this.intervalMs) * this.intervalMs
        : NO_ENQUEUE;
    }
    const queueArn = q?.ARN ?? '';
    return {
      lastUpdate,
      interval,
      queueId: this.intern(this.arn === 'full' ? queueArn : arnId(queueArn)),
      queueName: this.intern(q?.Name ?? ''),
      agent: this.intern(a?.Username ?? ''),
      answered,
      talk: answered ? (a?.AgentInteractionDuration ?? 0) : 0,
      acw: answered ? (a?.AfterContactWorkDuration ?? 0) : 0,
      queueDuration: q?.Duration ?? null,
      overflowIn:
        record.TransferredToEndpoint !== null && record.TransferredToEndpoint !== undefined,
      transferOut:
        record.TransferCompletedTimestamp !== null &&
        record.TransferCompletedTimestamp !== undefined,
    };
  }
}

/**
 * Computes interval statistics over reader items (or batches of them), e.g. the output of
 * {@link readFirehoseBatches} for one or several objects. Bad items are passed to `onBadRecord`.
 *
 * @example
 * const acc = await computeIntervalStats(readFirehoseBatches(stream, { sourceName: key }), { intervalMinutes: 30 });
 * console.log(acc.toCsv('agent-queue'));
 */
export async function computeIntervalStats(
  items: FirehoseItemSource,
  options: IntervalStatsOptions & {
    onBadRecord?: ((bad: FirehoseBadItem) => void) | undefined;
  } = {},
): Promise<IntervalStatsAccumulator> {
  const { onBadRecord, ...statsOptions } = options;
  const acc = new IntervalStatsAccumulator(statsOptions);
  const take = (item: FirehoseItem): void => {
    if (item.kind === 'record') acc.add(item.record);
    else onBadRecord?.(item);
  };
  for await (const entry of items as AsyncIterable<FirehoseItem | readonly FirehoseItem[]>) {
    if (Array.isArray(entry)) for (const item of entry as readonly FirehoseItem[]) take(item);
    else take(entry as FirehoseItem);
  }
  return acc;
}
