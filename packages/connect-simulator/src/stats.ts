import type { AgentQueueStatsTruthRow, QueueStatsTruthRow } from './types.js';

/** A statistics row as read from a delivered partial: column name → text or number. */
export type StatsPartialRow = Readonly<Record<string, string | number | null>>;

/** Columns that name a row rather than count something. */
const KEY_COLUMNS = new Set(['interval_start', 'interval_minutes', 'queue_id', 'agent_username']);

/**
 * Adds up interval statistics partials (say one `*.queue-stats.csv` per Firehose object) the way
 * docs/historical-formats.md#interval-statistics says they merge: rows with the same interval,
 * queue (and agent) are one row; `*_longest_*` columns take the maximum, `queue_name` the last
 * value, every other number is summed. Empty cells (`avg_avail_member_cnt`, `wait_dur`: `''` or
 * `null`) are dropped, so the result compares with {@link Simulation.intervalStats} rows. Numeric text is
 * read as a number. The rows come back sorted as the truth's are.
 *
 * @example
 * const merged = addStatsPartials([
 *   { interval_start: '2026-12-07T08:00:00Z', interval_minutes: 15, queue_id: 'q', answ_call_cnt: 2 },
 *   { interval_start: '2026-12-07T08:00:00Z', interval_minutes: 15, queue_id: 'q', answ_call_cnt: 1 },
 * ]);
 * // [{ interval_start: '2026-12-07T08:00:00Z', interval_minutes: 15, queue_id: 'q', answ_call_cnt: 3 }]
 */
export function addStatsPartials<
  Row extends QueueStatsTruthRow | AgentQueueStatsTruthRow = QueueStatsTruthRow,
>(rows: Iterable<StatsPartialRow>): Row[] {
  const merged = new Map<string, Record<string, string | number>>();
  for (const row of rows) {
    const key = [...KEY_COLUMNS].map((k) => row[k] ?? '').join('|');
    const into = merged.get(key) ?? {};
    merged.set(key, into);
    for (const [column, raw] of Object.entries(row)) {
      if (raw === '' || raw === null) continue;
      const value = typeof raw === 'number' || !/^-?\d+(\.\d+)?$/.test(raw) ? raw : Number(raw);
      const before = into[column];
      if (KEY_COLUMNS.has(column) || column === 'queue_name' || typeof value === 'string') {
        into[column] = value;
      } else if (column.includes('_longest_')) {
        into[column] = Math.max(typeof before === 'number' ? before : 0, value);
      } else {
        into[column] = (typeof before === 'number' ? before : 0) + value;
      }
    }
  }
  const cmp = (a: unknown, b: unknown) => {
    const x = String(a ?? '');
    const y = String(b ?? '');
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return [...merged.values()].sort(
    (a, b) =>
      cmp(a.interval_start, b.interval_start) ||
      cmp(a.queue_id, b.queue_id) ||
      cmp(a.agent_username, b.agent_username),
  ) as unknown as Row[];
}
