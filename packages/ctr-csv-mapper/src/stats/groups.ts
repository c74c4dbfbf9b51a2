/**
 * The statistics groups (docs/historical-formats.md#interval-statistics): the contacts' rows
 * sorted by interval, queue and agent, and each group's sums in one pass over them.
 */
import {
  ANSWERED,
  type ContactTable,
  NO_ENQUEUE,
  NO_QUEUE,
  OVERFLOW_IN,
  TRANSFER_OUT,
} from './table.js';

/** A queue statistics group (one interval and queue): the sums of its run of rows. */
export interface QueueGroup {
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
export interface AgentQueueGroup {
  readonly interval: number;
  readonly queue: number;
  readonly agent: number;
  talk: number;
  acw: number;
  answ: number;
  transferOut: number;
}

/**
 * The rows of the contacts in the statistics, sorted by interval, queue id and agent: each
 * statistics group is then a run of rows, summed in one pass without an object or a map entry
 * per group.
 */
export function sortRows(t: ContactTable, intervalMs: number): Uint32Array {
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
  const slots = n === 0 ? 0 : (last - first) / intervalMs + 1;
  const size = t.size;
  if (slots * texts * texts * size < Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const row = rows[k] as number;
      const slot = ((interval[row] as number) - first) / intervalMs;
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
  return rows;
}

/** Calls `visit` with each queue statistics group, in order. */
export function queueGroups(
  t: ContactTable,
  rows: Uint32Array,
  sla: number,
  short: number,
  visit: (g: QueueGroup) => void,
): void {
  const text = t.text;
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
export function agentQueueGroups(
  t: ContactTable,
  rows: Uint32Array,
  visit: (g: AgentQueueGroup) => void,
): void {
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
