import {
  AGENT_QUEUE_STATS_COLUMNS,
  type CtrRecord,
  IntervalStatsAccumulator,
  QUEUE_STATS_COLUMNS,
} from '@connect-wfm/ctr-csv-mapper';
import fc from 'fast-check';
import Papa from 'papaparse';
import { epochMs } from '../../src/stats.js';

/**
 * The accumulator against a model: docs/historical-formats.md#interval-statistics written the plainest way (one object per
 * contact, string-keyed maps, a comparator sort). The accumulator stores contacts in typed-array
 * columns, sums each group as a run of sorted rows and sorts by one number per row when that
 * fits, by a comparator when it does not; these tests hold all of that to the model.
 */

interface ModelContact {
  lastUpdate: number;
  interval: number | null;
  queueId: string;
  queueName: string;
  agent: string;
  answered: boolean;
  talk: number;
  acw: number;
  duration: number | null;
  overflowIn: boolean;
  transferOut: boolean;
}

function parseTs(ts: string | null | undefined): number {
  if (ts === null || ts === undefined) return Number.NEGATIVE_INFINITY;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface ModelOptions {
  intervalMinutes: 15 | 30 | 60;
  slaSeconds: number;
  shortAbandonSeconds: number;
}

/** Both statistics CSVs, as the model computes them. */
function modelCsv(
  records: readonly CtrRecord[],
  options: ModelOptions,
): { queue: string; agentQueue: string } {
  const ms = options.intervalMinutes * 60_000;
  const contacts = new Map<string, ModelContact>();
  for (const r of records) {
    const lastUpdate = parseTs(r.LastUpdateTimestamp);
    const prev = contacts.get(r.ContactId);
    if (prev !== undefined && lastUpdate < prev.lastUpdate) continue;
    const q = r.Queue;
    const a = r.Agent;
    const answered = a?.ConnectedToAgentTimestamp != null;
    const enq = q == null ? Number.NEGATIVE_INFINITY : parseTs(q.EnqueueTimestamp);
    const arn = q?.ARN ?? '';
    contacts.set(r.ContactId, {
      lastUpdate,
      interval: Number.isFinite(enq) ? Math.floor(enq / ms) * ms : null,
      queueId: arn.slice(arn.lastIndexOf('/') + 1),
      queueName: q?.Name ?? '',
      agent: a?.Username ?? '',
      answered,
      talk: answered ? (a?.AgentInteractionDuration ?? 0) : 0,
      acw: answered ? (a?.AfterContactWorkDuration ?? 0) : 0,
      duration: q?.Duration ?? null,
      overflowIn: r.TransferredToEndpoint != null,
      transferOut: r.TransferCompletedTimestamp != null,
    });
  }
  const counted = [...contacts.values()].filter((c) => c.interval !== null);
  const label = (t: number) => `${new Date(t).toISOString().slice(0, 19)}Z`;
  const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

  const queues = new Map<string, ModelContact[]>();
  for (const c of counted) {
    const key = JSON.stringify([c.interval, c.queueId]);
    queues.set(key, [...(queues.get(key) ?? []), c]);
  }
  const queueLines = [...queues.values()]
    .sort(
      (x, y) =>
        (x[0]?.interval as number) - (y[0]?.interval as number) ||
        cmp(x[0]?.queueId ?? '', y[0]?.queueId ?? ''),
    )
    .map((cs) => {
      const first = cs[0] as ModelContact;
      const named = [...cs].sort(
        (x, y) => y.lastUpdate - x.lastUpdate || cmp(y.queueName, x.queueName),
      )[0] as ModelContact;
      const ans = cs.filter((c) => c.answered);
      const ab = cs.filter((c) => !c.answered);
      const d = (list: ModelContact[]) =>
        list.filter((c) => c.duration !== null).map((c) => c.duration as number);
      const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
      const max = (xs: number[]) => Math.max(0, ...xs);
      return [
        label(first.interval as number),
        options.intervalMinutes,
        field(first.queueId),
        field(named.queueName),
        sum(ans.map((c) => c.talk)),
        sum(ans.map((c) => c.acw)),
        cs.filter((c) => c.overflowIn).length,
        cs.filter((c) => c.transferOut).length,
        ab.length,
        ans.length,
        sum(d(ans)),
        sum(d(ab)),
        max(d(ans)),
        max(d(ab)),
        '',
        d(ans).filter((x) => x < options.slaSeconds).length,
        '',
        d(ab).filter((x) => x < options.shortAbandonSeconds).length,
        d(ab).filter((x) => x < options.slaSeconds).length,
      ].join(',');
    });

  const agents = new Map<string, ModelContact[]>();
  for (const c of counted.filter((x) => x.answered)) {
    const key = JSON.stringify([c.interval, c.queueId, c.agent]);
    agents.set(key, [...(agents.get(key) ?? []), c]);
  }
  const agentLines = [...agents.values()]
    .map((cs) => cs[0] as ModelContact)
    .sort(
      (x, y) =>
        (x.interval as number) - (y.interval as number) ||
        cmp(x.queueId, y.queueId) ||
        cmp(x.agent, y.agent),
    )
    .map((first) => {
      const cs = agents.get(
        JSON.stringify([first.interval, first.queueId, first.agent]),
      ) as ModelContact[];
      return [
        label(first.interval as number),
        options.intervalMinutes,
        field(first.queueId),
        field(first.agent),
        cs.reduce((s, c) => s + c.talk, 0),
        cs.reduce((s, c) => s + c.acw, 0),
        cs.length,
        cs.filter((c) => c.transferOut).length,
      ].join(',');
    });
  const csv = (header: readonly string[], lines: string[]) =>
    `${[header.join(','), ...lines].join('\n')}\n`;
  return {
    queue: csv(QUEUE_STATS_COLUMNS, queueLines),
    agentQueue: csv(AGENT_QUEUE_STATS_COLUMNS, agentLines),
  };
}

const ARN = 'arn:aws:connect:eu-west-2:1:instance/i/queue/';

const recordArb = (enqueueMs: fc.Arbitrary<number>): fc.Arbitrary<CtrRecord> =>
  fc
    .record({
      id: fc.integer({ min: 0, max: 30 }),
      enqueue: fc.option(enqueueMs, { nil: null }),
      hasQueue: fc.boolean(),
      queue: fc.constantFrom('q-1', 'q-2', 'q,3', 'Q-0', 'é'),
      name: fc.constantFrom('Sales', 'Support, "Tier 2"', 'ventes', ''),
      // Mostly whole seconds, as Connect writes; some fractions and some beyond 32-bit integers.
      duration: fc.option(
        fc.oneof(
          { weight: 8, arbitrary: fc.integer({ min: 0, max: 60 }) },
          { weight: 1, arbitrary: fc.double({ min: 0, max: 60, noNaN: true }) },
          { weight: 1, arbitrary: fc.integer({ min: 2 ** 31 - 5, max: 2 ** 33 }) },
        ),
        { nil: null },
      ),
      agent: fc.option(fc.constantFrom('a', 'b', 'Z', 'agent, one', 'ü'), { nil: null }),
      connected: fc.boolean(),
      talk: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0, max: 900 }) },
        { weight: 1, arbitrary: fc.double({ min: 0, max: 900, noNaN: true }) },
        { weight: 1, arbitrary: fc.integer({ min: 2 ** 31 - 5, max: 2 ** 33 }) },
      ),
      acw: fc.option(fc.integer({ min: 0, max: 300 }), { nil: null }),
      update: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
      transferOut: fc.boolean(),
      transferredTo: fc.boolean(),
    })
    .map(
      (s): CtrRecord => ({
        ContactId: `c${s.id}`,
        LastUpdateTimestamp: s.update === null ? null : `2026-11-24T1${s.update}:00:00Z`,
        TransferCompletedTimestamp: s.transferOut ? '2026-11-24T08:10:00Z' : null,
        TransferredToEndpoint: s.transferredTo ? { Address: '+44' } : null,
        Agent:
          s.agent === null
            ? null
            : {
                Username: s.agent,
                ConnectedToAgentTimestamp: s.connected ? '2026-11-24T08:05:00Z' : null,
                AgentInteractionDuration: s.talk,
                AfterContactWorkDuration: s.acw,
              },
        Queue: s.hasQueue
          ? {
              ARN: `${ARN}${s.queue}`,
              Name: s.name,
              EnqueueTimestamp: s.enqueue === null ? null : new Date(s.enqueue).toISOString(),
              Duration: s.duration,
            }
          : null,
      }),
    );

const DAY = Date.UTC(2026, 10, 24);
const settings = fc.record({
  intervalMinutes: fc.constantFrom(15 as const, 30 as const, 60 as const),
  slaSeconds: fc.integer({ min: 0, max: 40 }),
  shortAbandonSeconds: fc.integer({ min: 0, max: 10 }),
});

describe('interval statistics against a plain model of docs/historical-formats.md#interval-statistics', () => {
  it('gives the model’s CSVs for any records of a day (property)', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb(fc.integer({ min: DAY, max: DAY + 86_399_999 })), { maxLength: 80 }),
        settings,
        (records, opts) => {
          const acc = new IntervalStatsAccumulator(opts);
          for (const r of records) acc.add(r);
          const model = modelCsv(records, opts);
          expect(acc.toCsv('queue')).toBe(model.queue);
          expect(acc.toCsv('agent-queue')).toBe(model.agentQueue);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the model’s CSVs when the sort key does not fit a double (comparator sort)', () => {
    // 800 contacts, each with its own agent, enqueued from 1970 to 2200: 15-minute slots (8e6)
    // × strings² (1.6e3²) × rows (800) is above 2^53, so the rows are sorted by the comparator.
    const records: CtrRecord[] = [];
    for (let i = 0; i < 800; i++) {
      const enqueue = Math.floor((((i * 7919) % 800) / 800) * Date.UTC(2200, 0, 1));
      records.push({
        ContactId: `c${i}`,
        LastUpdateTimestamp: '2026-11-24T10:00:00Z',
        Agent: {
          Username: `agent-${(i * 31) % 800}`,
          ConnectedToAgentTimestamp: i % 3 === 0 ? null : '2026-11-24T08:05:00Z',
          AgentInteractionDuration: i,
          AfterContactWorkDuration: 1,
        },
        Queue: {
          ARN: `${ARN}q-${i % 4}`,
          Name: `Queue ${i}`,
          EnqueueTimestamp: new Date(enqueue).toISOString(),
          Duration: i % 40,
        },
      });
    }
    const opts = { intervalMinutes: 15 as const, slaSeconds: 20, shortAbandonSeconds: 5 };
    const acc = new IntervalStatsAccumulator(opts);
    for (const r of records) acc.add(r);
    const model = modelCsv(records, opts);
    expect(acc.toCsv('agent-queue')).toBe(model.agentQueue);
    expect(acc.toCsv('queue')).toBe(model.queue);
    const rows = Papa.parse<string[]>(acc.toCsv('agent-queue').trimEnd()).data.slice(1);
    expect(rows).toHaveLength(800 - Math.ceil(800 / 3));
  });

  it('sorts again after records are added or merged between two CSVs', () => {
    const opts = { intervalMinutes: 15 as const, slaSeconds: 20, shortAbandonSeconds: 5 };
    fc.assert(
      fc.property(
        fc.array(recordArb(fc.integer({ min: DAY, max: DAY + 86_399_999 })), { maxLength: 30 }),
        fc.array(recordArb(fc.integer({ min: DAY, max: DAY + 86_399_999 })), { maxLength: 30 }),
        fc.array(recordArb(fc.integer({ min: DAY, max: DAY + 86_399_999 })), { maxLength: 30 }),
        (first, second, third) => {
          const acc = new IntervalStatsAccumulator(opts);
          for (const r of first) acc.add(r);
          expect(acc.toCsv('queue')).toBe(modelCsv(first, opts).queue);
          for (const r of second) acc.add(r);
          expect(acc.toCsv('agent-queue')).toBe(modelCsv([...first, ...second], opts).agentQueue);
          const other = new IntervalStatsAccumulator(opts);
          for (const r of third) other.add(r);
          acc.merge(other);
          const all = modelCsv([...first, ...second, ...third], opts);
          expect(acc.toCsv('queue')).toBe(all.queue);
          expect(acc.toCsv('agent-queue')).toBe(all.agentQueue);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('epochMs', () => {
  const pad = (n: number, w: number) => String(n).padStart(w, '0');

  it('equals Date.parse for Connect-shaped timestamps, in range or not (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
        (y, mo, d, h, mi, s) => {
          const ts = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}Z`;
          const expected = Date.parse(ts);
          expect(epochMs(ts)).toBe(Number.isNaN(expected) ? Number.NEGATIVE_INFINITY : expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('equals Date.parse on leap days, other shapes and near misses', () => {
    for (const ts of [
      '2024-02-29T12:00:00Z',
      '2026-02-29T12:00:00Z',
      '2000-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-12-31T23:59:59Z',
      '0099-01-01T00:00:00Z',
      '1000-01-01T00:00:00Z',
      '2026-11-24T08:15:00.123Z',
      '2026-11-24T08:15Z',
      '2026-11-24T10:15:00+02:00',
      '2026-11-24 08:15:00Z',
      '2026-11-24T08:15:0aZ',
      '2026-1a-24T08:15:00Z',
      'not a timestamp at all',
    ]) {
      const expected = Date.parse(ts);
      expect([ts, epochMs(ts)]).toEqual([
        ts,
        Number.isNaN(expected) ? Number.NEGATIVE_INFINITY : expected,
      ]);
    }
    expect(epochMs(null)).toBe(Number.NEGATIVE_INFINITY);
    expect(epochMs(undefined)).toBe(Number.NEGATIVE_INFINITY);
  });
});
