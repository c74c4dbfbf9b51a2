import { z } from 'zod';
import type { FirehoseItemSource } from './csv.js';
import { arnId, csvField, csvLine } from './csv-field.js';
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
  StatsCsvOptions,
} from './types.js';

/**
 * Interval statistics (data-mapping §3).
 *
 * De-duplication needs to know every ContactId, also across objects, so the accumulator keeps one
 * small row per distinct ContactId (its latest version's contribution) until the rows are
 * produced. That makes `merge` exact: two partial results that share a ContactId count it once.
 * Memory therefore grows with the number of distinct contacts (not with the bytes read): about
 * 17 MB per 100,000 contacts (see {@link ContactTable}).
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

// Sentinels: not multiples of any interval length, so never a real interval start.
const NO_QUEUE = -1;
const NO_ENQUEUE = -2;

/** Bits of {@link ContactTable.flags}. */
const ANSWERED = 1;
const OVERFLOW_IN = 2;
const TRANSFER_OUT = 4;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 0x30;
  const b = s.charCodeAt(i + 1) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar (the well-known
 * "days from civil" arithmetic: years start in March, so the leap day ends a year).
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * A timestamp in epoch ms, -Infinity when missing or unparseable. Connect's own shape,
 * `YYYY-MM-DDTHH:MM:SSZ` with every part in range, is computed with integer arithmetic (about
 * 2.5 times faster than `Date.parse` once warm, at two timestamps per record); anything else,
 * including out-of-range parts, goes to `Date.parse`, so the result is always what `Date.parse`
 * gives (a property test checks this).
 */
export function epochMs(ts: string | null | undefined): number {
  if (ts === null || ts === undefined) return Number.NEGATIVE_INFINITY;
  if (
    ts.length === 20 &&
    ts.charCodeAt(4) === 0x2d &&
    ts.charCodeAt(7) === 0x2d &&
    ts.charCodeAt(10) === 0x54 &&
    ts.charCodeAt(13) === 0x3a &&
    ts.charCodeAt(16) === 0x3a &&
    ts.charCodeAt(19) === 0x5a
  ) {
    const hi = twoDigits(ts, 0);
    const lo = twoDigits(ts, 2);
    const month = twoDigits(ts, 5);
    const day = twoDigits(ts, 8);
    const hour = twoDigits(ts, 11);
    const minute = twoDigits(ts, 14);
    const second = twoDigits(ts, 17);
    // Years below 1000 are left to Date.parse: Date.UTC maps 0-99 to 1900-1999.
    if (hi >= 10 && lo >= 0 && month >= 1 && month <= 12 && day >= 1) {
      const year = hi * 100 + lo;
      const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
      if (day <= days && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59) {
        if (second >= 0 && second <= 59) {
          return (
            daysFromCivil(year, month, day) * 86_400_000 +
            hour * 3_600_000 +
            minute * 60_000 +
            second * 1000
          );
        }
      }
    }
  }
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

const INITIAL_ROWS = 1024;

/**
 * What each distinct contact contributes (its latest version), one row per contact, in columns
 * of typed arrays: 53 bytes a contact outside the JavaScript heap (up to twice that while the
 * columns grow by doubling), plus its ContactId and index entry, about 100 bytes of heap. Queue
 * ids, queue names and agent names are stored once and referred to by number. Measured with
 * 100,000 contacts: 10 MB of heap and 7 MB of columns, where an object per contact took 25 MB of
 * heap that the garbage collector had to trace and move as it grew.
 */
class ContactTable {
  /** ContactId → row, in the order contacts were first added. */
  readonly index = new Map<string, number>();
  size = 0;
  /** `LastUpdateTimestamp` in epoch ms, or -Infinity when missing. */
  lastUpdate = new Float64Array(INITIAL_ROWS);
  /** Interval start in epoch ms; NO_QUEUE: no Queue; NO_ENQUEUE: Queue without EnqueueTimestamp. */
  interval = new Float64Array(INITIAL_ROWS);
  talk = new Float64Array(INITIAL_ROWS);
  acw = new Float64Array(INITIAL_ROWS);
  /** `Queue.Duration`, NaN when missing (adds 0, not counted against thresholds). */
  queueDuration = new Float64Array(INITIAL_ROWS);
  /** String numbers (see {@link text}) of the queue id, queue name and agent username. */
  queueId = new Int32Array(INITIAL_ROWS);
  queueName = new Int32Array(INITIAL_ROWS);
  agent = new Int32Array(INITIAL_ROWS);
  /** ANSWERED | OVERFLOW_IN | TRANSFER_OUT. */
  flags = new Uint8Array(INITIAL_ROWS);
  /** The distinct strings, by number. */
  readonly text: string[] = [];
  private readonly textIds = new Map<string, number>();

  /** The number of a string, added if new. */
  textId(value: string): number {
    const known = this.textIds.get(value);
    if (known !== undefined) return known;
    const id = this.text.length;
    this.text.push(value);
    this.textIds.set(value, id);
    return id;
  }

  /** The row of a new contact (its columns are then filled by the caller). */
  append(contactId: string): number {
    const row = this.size;
    if (row === this.lastUpdate.length) this.grow();
    this.index.set(contactId, row);
    this.size = row + 1;
    return row;
  }

  private grow(): void {
    const n = this.lastUpdate.length * 2;
    const f64 = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.lastUpdate = f64(this.lastUpdate);
    this.interval = f64(this.interval);
    this.talk = f64(this.talk);
    this.acw = f64(this.acw);
    this.queueDuration = f64(this.queueDuration);
    this.queueId = i32(this.queueId);
    this.queueName = i32(this.queueName);
    this.agent = i32(this.agent);
    const flags = new Uint8Array(n);
    flags.set(this.flags);
    this.flags = flags;
  }

  /**
   * The rank of every string in `cmp` order (ranks[id] < ranks[other] exactly when
   * text[id] < text[other]), so rows sort by numbers instead of by string comparisons.
   */
  ranks(): Int32Array {
    const order = this.text
      .map((_, i) => i)
      .sort((a, b) => cmp(this.text[a] as string, this.text[b] as string));
    const ranks = new Int32Array(order.length);
    for (let r = 0; r < order.length; r++) ranks[order[r] as number] = r;
    return ranks;
  }
}

/** A queue statistics group (one interval and queue): the sums of its run of rows. */
interface QueueGroup {
  readonly interval: number;
  readonly queue: number;
  /** The queue name and the `LastUpdateTimestamp` it came with. */
  queueName: number;
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

/** An agent-queue statistics group (one interval, queue and agent): the sums of its run of rows. */
interface AgentQueueGroup {
  readonly interval: number;
  readonly queue: number;
  readonly agent: number;
  talk: number;
  acw: number;
  answ: number;
  transferOut: number;
}

/**
 * Text built in a Buffer, as UTF-8, and decoded once at the end. Appending tens of thousands of
 * rows to a string builds a rope of them that stays young until the end, and the garbage
 * collector copied it again at every collection: most of the time of a large `toCsv`.
 */
class TextOut {
  private buf = Buffer.allocUnsafe(65536);
  private pos = 0;
  /** Rows not yet written: a short rope, copied into the Buffer about every 16 K characters. */
  private pending = '';

  add(s: string): void {
    this.pending += s;
    if (this.pending.length >= 16384) this.flush();
  }

  text(): string {
    this.flush();
    return this.buf.toString('utf8', 0, this.pos);
  }

  private flush(): void {
    const s = this.pending;
    this.pending = '';
    const need = this.pos + s.length * 3;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    }
    this.pos += this.buf.write(s, this.pos);
  }
}

/** An integral number as an int32 (converted to text much faster than a double); others as is. */
function int(x: number): number {
  return (x | 0) === x ? x | 0 : x;
}

/** Interval labels, computed once per distinct interval start. */
class IntervalLabels {
  private ms = Number.NaN;
  private label = '';

  /** The label of `ms` (groups come sorted by interval, so the last one is usually it). */
  of(ms: number): string {
    if (ms !== this.ms) {
      this.ms = ms;
      this.label = isoSeconds(ms);
    }
    return this.label;
  }
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
  private readonly table = new ContactTable();
  /** Bumped by every change, so a cached sort order is known to be stale. */
  private version = 0;
  private sorted: { readonly version: number; readonly rows: Uint32Array } | undefined;
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
    this.version++;
    const lastUpdate = epochMs(record.LastUpdateTimestamp);
    const t = this.table;
    let row = t.index.get(record.ContactId);
    if (row === undefined) {
      row = t.append(record.ContactId);
    } else {
      this.duplicates++;
      if (lastUpdate < (t.lastUpdate[row] as number)) return this;
    }
    this.fill(row, record, lastUpdate);
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
    this.version++;
    const t = this.table;
    const o = other.table;
    // The other's string numbers, translated to this table's on first use.
    const ids = new Int32Array(o.text.length).fill(-1);
    const id = (n: number): number => {
      let mine = ids[n] as number;
      if (mine < 0) {
        mine = t.textId(o.text[n] as string);
        ids[n] = mine;
      }
      return mine;
    };
    for (const [contactId, from] of o.index) {
      let row = t.index.get(contactId);
      if (row === undefined) {
        row = t.append(contactId);
      } else {
        this.duplicates++;
        if ((o.lastUpdate[from] as number) < (t.lastUpdate[row] as number)) continue;
      }
      t.lastUpdate[row] = o.lastUpdate[from] as number;
      t.interval[row] = o.interval[from] as number;
      t.talk[row] = o.talk[from] as number;
      t.acw[row] = o.acw[from] as number;
      t.queueDuration[row] = o.queueDuration[from] as number;
      t.queueId[row] = id(o.queueId[from] as number);
      t.queueName[row] = id(o.queueName[from] as number);
      t.agent[row] = id(o.agent[from] as number);
      t.flags[row] = o.flags[from] as number;
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
    const t = this.table;
    let withoutQueue = 0;
    let withoutEnqueue = 0;
    for (let row = 0; row < t.size; row++) {
      const interval = t.interval[row] as number;
      if (interval === NO_QUEUE) withoutQueue++;
      else if (interval === NO_ENQUEUE) withoutEnqueue++;
    }
    return {
      recordsAdded: this.recordsAdded,
      distinctContacts: t.size,
      duplicates: this.duplicates,
      queuedContacts: t.size - withoutQueue - withoutEnqueue,
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
    const text = this.table.text;
    const labels = new IntervalLabels();
    const rows: QueueStatsRow[] = [];
    this.queueGroups((g) => {
      rows.push({
        interval_start: labels.of(g.interval),
        interval_minutes: this.intervalMinutes,
        queue_id: text[g.queue] as string,
        queue_name: text[g.queueName] as string,
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
      });
    });
    return rows;
  }

  /**
   * Agent-queue statistics rows (answered contacts only), sorted by interval, queue id, agent.
   *
   * @example
   * const rows = acc.agentQueueRows();
   */
  agentQueueRows(): AgentQueueStatsRow[] {
    const text = this.table.text;
    const labels = new IntervalLabels();
    const rows: AgentQueueStatsRow[] = [];
    this.agentQueueGroups((g) => {
      rows.push({
        interval_start: labels.of(g.interval),
        interval_minutes: this.intervalMinutes,
        queue_id: text[g.queue] as string,
        agent_username: text[g.agent] as string,
        talking_call_dur: g.talk,
        wrap_up_dur: g.acw,
        answ_call_cnt: g.answ,
        transfer_out_call_cnt: g.transferOut,
      });
    });
    return rows;
  }

  /**
   * The statistics as CSV text (header + rows, `\n` line endings, RFC 4180 quoting, empty fields
   * for the columns Connect cannot fill).
   *
   * @example
   * await writeFile('queue-stats.csv', acc.toCsv('queue'));
   */
  toCsv(kind: 'queue' | 'agent-queue', options: StatsCsvOptions = {}): string {
    const formulaEscape = options.formulaEscape ?? 'none';
    const text = this.table.text;
    const labels = new IntervalLabels();
    const m = this.intervalMinutes;
    // Each string's CSV field, quoted once however many rows repeat it.
    const fields: Array<string | undefined> = [];
    const field = (id: number): string => {
      let f = fields[id];
      if (f === undefined) {
        f = csvField(text[id], formulaEscape);
        fields[id] = f;
      }
      return f;
    };
    const out = new TextOut();
    if (kind === 'queue') {
      out.add(csvLine(QUEUE_STATS_COLUMNS));
      this.queueGroups((g) => {
        out.add(
          `${labels.of(g.interval)},${m},${field(g.queue)},${field(g.queueName)},${int(g.talk)},${int(g.acw)},${g.overflowIn},${g.overflowOut},${g.aband},${g.answ},${int(g.answDur)},${int(g.abandDur)},${int(g.answMax)},${int(g.abandMax)},,${g.answSl},,${g.abandShort},${g.abandSl}\n`,
        );
      });
    } else {
      out.add(csvLine(AGENT_QUEUE_STATS_COLUMNS));
      this.agentQueueGroups((g) => {
        out.add(
          `${labels.of(g.interval)},${m},${field(g.queue)},${field(g.agent)},${int(g.talk)},${int(g.acw)},${g.answ},${g.transferOut}\n`,
        );
      });
    }
    return out.text();
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
    const t = this.table;
    const text = t.text;
    const contacts: Array<IntervalStatsSnapshot['contacts'][number]> = [];
    for (const [id, row] of t.index) {
      const lastUpdate = t.lastUpdate[row] as number;
      const queueDuration = t.queueDuration[row] as number;
      const flags = t.flags[row] as number;
      contacts.push([
        id,
        Number.isFinite(lastUpdate) ? lastUpdate : null,
        t.interval[row] as number,
        text[t.queueId[row] as number] as string,
        text[t.queueName[row] as number] as string,
        text[t.agent[row] as number] as string,
        (flags & ANSWERED) !== 0,
        t.talk[row] as number,
        t.acw[row] as number,
        Number.isNaN(queueDuration) ? null : queueDuration,
        (flags & OVERFLOW_IN) !== 0,
        (flags & TRANSFER_OUT) !== 0,
      ]);
    }
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
      contacts,
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
    const t = acc.table;
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
      // A snapshot lists each contact once; a repeated id keeps its last entry, as a Map would.
      const row = t.index.get(id) ?? t.append(id);
      t.lastUpdate[row] = lu ?? Number.NEGATIVE_INFINITY;
      t.interval[row] = interval;
      t.talk[row] = talk;
      t.acw[row] = acw;
      t.queueDuration[row] = qd ?? Number.NaN;
      t.queueId[row] = t.textId(queueId);
      t.queueName[row] = t.textId(queueName);
      t.agent[row] = t.textId(agent);
      t.flags[row] = (answered ? ANSWERED : 0) | (oi ? OVERFLOW_IN : 0) | (to ? TRANSFER_OUT : 0);
    }
    return acc;
  }

  /** Writes a record's contribution into its row. */
  private fill(row: number, record: CtrRecord, lastUpdate: number): void {
    const t = this.table;
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
    t.lastUpdate[row] = lastUpdate;
    t.interval[row] = interval;
    t.queueId[row] = t.textId(this.arn === 'full' ? queueArn : arnId(queueArn));
    t.queueName[row] = t.textId(q?.Name ?? '');
    t.agent[row] = t.textId(a?.Username ?? '');
    t.talk[row] = answered ? (a?.AgentInteractionDuration ?? 0) : 0;
    t.acw[row] = answered ? (a?.AfterContactWorkDuration ?? 0) : 0;
    t.queueDuration[row] = q?.Duration ?? Number.NaN;
    t.flags[row] =
      (answered ? ANSWERED : 0) |
      (record.TransferredToEndpoint !== null && record.TransferredToEndpoint !== undefined
        ? OVERFLOW_IN
        : 0) |
      (record.TransferCompletedTimestamp !== null && record.TransferCompletedTimestamp !== undefined
        ? TRANSFER_OUT
        : 0);
  }

  /**
   * The rows of the contacts in the statistics, sorted by interval, queue id and agent: each
   * statistics group is then a run of rows, summed in one pass without an object or a map entry
   * per group. Kept until the next change, so both CSVs share one sort.
   */
  private sortedRows(): Uint32Array {
    const cached = this.sorted;
    if (cached !== undefined && cached.version === this.version) return cached.rows;
    const t = this.table;
    const interval = t.interval;
    const queue = t.queueId;
    const agent = t.agent;
    const ranks = t.ranks();
    let rows = new Uint32Array(t.size);
    let n = 0;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (let row = 0; row < t.size; row++) {
      const i = interval[row] as number;
      if (i === NO_QUEUE || i === NO_ENQUEUE) continue;
      rows[n++] = row;
      if (i < first) first = i;
      if (i > last) last = i;
    }
    rows = rows.subarray(0, n);
    // The order as one number per row, (interval slot, queue rank, agent rank, row), when that
    // fits in a double's exact integers (it does for any day of data): a numeric sort without a
    // comparator is several times faster. Otherwise the comparator sort.
    const texts = t.text.length;
    const slots = n === 0 ? 0 : (last - first) / this.intervalMs + 1;
    const size = t.size;
    if (slots * texts * texts * size < Number.MAX_SAFE_INTEGER) {
      const keys = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const row = rows[k] as number;
        const slot = ((interval[row] as number) - first) / this.intervalMs;
        const q = ranks[queue[row] as number] as number;
        const a = ranks[agent[row] as number] as number;
        keys[k] = ((slot * texts + q) * texts + a) * size + row;
      }
      keys.sort();
      for (let k = 0; k < n; k++) rows[k] = (keys[k] as number) % size;
    } else {
      rows.sort(
        (x, y) =>
          (interval[x] as number) - (interval[y] as number) ||
          (ranks[queue[x] as number] as number) - (ranks[queue[y] as number] as number) ||
          (ranks[agent[x] as number] as number) - (ranks[agent[y] as number] as number),
      );
    }
    this.sorted = { version: this.version, rows };
    return rows;
  }

  /** Calls `visit` with each queue statistics group, in order. */
  private queueGroups(visit: (g: QueueGroup) => void): void {
    const t = this.table;
    const text = t.text;
    const sla = this.slaSeconds;
    const short = this.shortAbandonSeconds;
    const rows = this.sortedRows();
    let g: QueueGroup | undefined;
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k] as number;
      const interval = t.interval[row] as number;
      const queue = t.queueId[row] as number;
      const lastUpdate = t.lastUpdate[row] as number;
      const name = t.queueName[row] as number;
      if (g === undefined || interval !== g.interval || queue !== g.queue) {
        if (g !== undefined) visit(g);
        g = {
          interval,
          queue,
          queueName: name,
          nameUpdate: lastUpdate,
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
      } else if (
        lastUpdate > g.nameUpdate ||
        (lastUpdate === g.nameUpdate && (text[name] as string) > (text[g.queueName] as string))
      ) {
        g.queueName = name;
        g.nameUpdate = lastUpdate;
      }
      const flags = t.flags[row] as number;
      if ((flags & OVERFLOW_IN) !== 0) g.overflowIn++;
      if ((flags & TRANSFER_OUT) !== 0) g.overflowOut++;
      const d = t.queueDuration[row] as number;
      const known = !Number.isNaN(d);
      if ((flags & ANSWERED) !== 0) {
        g.answ++;
        g.talk += t.talk[row] as number;
        g.acw += t.acw[row] as number;
        if (known) {
          g.answDur += d;
          if (d > g.answMax) g.answMax = d;
          if (d < sla) g.answSl++;
        }
      } else {
        g.aband++;
        if (known) {
          g.abandDur += d;
          if (d > g.abandMax) g.abandMax = d;
          if (d < short) g.abandShort++;
          if (d < sla) g.abandSl++;
        }
      }
    }
    if (g !== undefined) visit(g);
  }

  /** Calls `visit` with each agent-queue statistics group (answered contacts only), in order. */
  private agentQueueGroups(visit: (g: AgentQueueGroup) => void): void {
    const t = this.table;
    const rows = this.sortedRows();
    let g: AgentQueueGroup | undefined;
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k] as number;
      const flags = t.flags[row] as number;
      if ((flags & ANSWERED) === 0) continue;
      const interval = t.interval[row] as number;
      const queue = t.queueId[row] as number;
      const agent = t.agent[row] as number;
      if (g === undefined || interval !== g.interval || queue !== g.queue || agent !== g.agent) {
        if (g !== undefined) visit(g);
        g = { interval, queue, agent, talk: 0, acw: 0, answ: 0, transferOut: 0 };
      }
      g.answ++;
      g.talk += t.talk[row] as number;
      g.acw += t.acw[row] as number;
      if ((flags & TRANSFER_OUT) !== 0) g.transferOut++;
    }
    if (g !== undefined) visit(g);
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
