import type { ConfigProblem } from '@connect-wfm/core';
import type { FirehoseItemSource } from './csv.js';
import { arnId, csvField, csvLine } from './csv-field.js';
import { InvalidOptionsError, InvalidSnapshotError } from './errors.js';
import { checkOptions, statsOptionsSchema } from './options.js';
import { AGENT_QUEUE_STATS_COLUMNS, QUEUE_STATS_COLUMNS } from './stats/columns.js';
import {
  type AgentQueueGroup,
  agentQueueGroups,
  type QueueGroup,
  queueGroups,
  sortRows,
} from './stats/groups.js';
import { type IntervalStatsSnapshot, snapshotSchema } from './stats/snapshot.js';
import {
  ANSWERED,
  ContactTable,
  NO_ENQUEUE,
  NO_QUEUE,
  OVERFLOW_IN,
  TRANSFER_OUT,
} from './stats/table.js';
import { IntervalLabels, int, TextOut } from './stats/text-out.js';
import { epochMs } from './stats/time.js';
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

export { AGENT_QUEUE_STATS_COLUMNS, QUEUE_STATS_COLUMNS } from './stats/columns.js';
export type { IntervalStatsSnapshot } from './stats/snapshot.js';
export { epochMs } from './stats/time.js';

/**
 * Interval statistics (docs/historical-formats.md#interval-statistics).
 *
 * De-duplication needs to know every ContactId, also across objects, so the accumulator keeps one
 * small row per distinct ContactId (its latest version's contribution) until the rows are
 * produced. That makes `merge` exact: two partial results that share a ContactId count it once.
 * Memory therefore grows with the number of distinct contacts (not with the bytes read): about
 * 17 MB per 100,000 contacts (see `ContactTable` in stats/table.ts).
 */

/**
 * Accumulates queue and agent-queue interval statistics (docs/historical-formats.md#interval-statistics) over any number of
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
   * Merges another partial result into this one (docs/historical-formats.md#interval-statistics): the other's records count as
   * read after this one's, so on a `LastUpdateTimestamp` tie the other's version wins. Both must
   * have the same settings.
   *
   * @throws {@link InvalidOptionsError} when the settings differ.
   * @example
   * const total = new IntervalStatsAccumulator();
   * for (const partial of partials) total.merge(partial);
   */
  merge(other: IntervalStatsAccumulator): this {
    const mismatches: ConfigProblem[] = [];
    for (const key of ['intervalMinutes', 'slaSeconds', 'shortAbandonSeconds', 'arn'] as const) {
      if (this[key] !== other[key]) {
        mismatches.push({
          path: key,
          message: `${String(this[key])} here, ${String(other[key])} in the other`,
        });
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

  /** The sorted rows (see sortRows), kept until the next change so both CSVs share one sort. */
  private sortedRows(): Uint32Array {
    const cached = this.sorted;
    if (cached !== undefined && cached.version === this.version) return cached.rows;
    const rows = sortRows(this.table, this.intervalMs);
    this.sorted = { version: this.version, rows };
    return rows;
  }

  private queueGroups(visit: (g: QueueGroup) => void): void {
    queueGroups(this.table, this.sortedRows(), this.slaSeconds, this.shortAbandonSeconds, visit);
  }

  private agentQueueGroups(visit: (g: AgentQueueGroup) => void): void {
    agentQueueGroups(this.table, this.sortedRows(), visit);
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
