import {
  AGENT_QUEUE_STATS_COLUMNS,
  type CtrRecord,
  computeIntervalStats,
  IntervalStatsAccumulator,
  InvalidOptionsError,
  InvalidSnapshotError,
  QUEUE_STATS_COLUMNS,
  readFirehoseBatches,
} from '@connect-wfm/ctr-csv-mapper';
import fc from 'fast-check';
import Papa from 'papaparse';
import { sampleBytes } from './helpers.js';

const Q1 = 'arn:aws:connect:eu-west-2:1:instance/i/queue/q-1';
const Q2 = 'arn:aws:connect:eu-west-2:1:instance/i/queue/q-2';

interface Spec {
  id: string;
  enqueue?: string | null;
  duration?: number | null;
  answered?: boolean;
  agent?: string;
  talk?: number;
  acw?: number;
  queue?: string | null;
  name?: string;
  update?: string;
  transferOut?: boolean;
  transferredTo?: boolean;
}

function contact(s: Spec): CtrRecord {
  const queueArn = s.queue === undefined ? Q1 : s.queue;
  return {
    ContactId: s.id,
    LastUpdateTimestamp: s.update ?? '2026-11-24T12:00:00Z',
    TransferCompletedTimestamp: s.transferOut === true ? '2026-11-24T08:10:00Z' : null,
    TransferredToEndpoint: s.transferredTo === true ? { Address: '+44' } : null,
    Agent:
      s.answered === false
        ? null
        : {
            Username: s.agent ?? 'agent.a',
            ConnectedToAgentTimestamp: '2026-11-24T08:05:00Z',
            AgentInteractionDuration: s.talk ?? 100,
            AfterContactWorkDuration: s.acw ?? 10,
          },
    Queue:
      queueArn === null
        ? null
        : {
            ARN: queueArn,
            Name: s.name ?? 'Sales',
            EnqueueTimestamp: s.enqueue === undefined ? '2026-11-24T08:04:31Z' : s.enqueue,
            Duration: s.duration === undefined ? 10 : s.duration,
          },
  };
}

describe('interval statistics (docs/historical-formats.md#interval-statistics)', () => {
  it('computes the sample: one answered call with a transfer, one abandoned call, one chat', async () => {
    const acc = await computeIntervalStats(readFirehoseBatches([sampleBytes()]));
    expect(acc.toCsv('queue')).toBe(
      `${QUEUE_STATS_COLUMNS.join(',')}\n` +
        '2023-05-02T08:00:00Z,15,9a9a9a9a-0000-4000-8000-000000000001,Sales,193,60,1,1,0,1,43,0,43,0,,0,,0,0\n' +
        '2023-05-02T08:15:00Z,15,9a9a9a9a-0000-4000-8000-000000000001,Sales,0,0,0,0,1,0,0,152,0,152,,0,,0,0\n' +
        '2023-05-02T08:30:00Z,15,9a9a9a9a-0000-4000-8000-000000000001,Sales,632,30,0,0,0,1,34,0,34,0,,0,,0,0\n',
    );
    expect(acc.toCsv('agent-queue')).toBe(
      `${AGENT_QUEUE_STATS_COLUMNS.join(',')}\n` +
        '2023-05-02T08:00:00Z,15,9a9a9a9a-0000-4000-8000-000000000001,agent.alvarez,193,60,1,1\n' +
        '2023-05-02T08:30:00Z,15,9a9a9a9a-0000-4000-8000-000000000001,agent.alvarez,632,30,1,0\n',
    );
  });

  it('floors Queue.EnqueueTimestamp to 15, 30 or 60 minutes from 00:00 UTC', () => {
    const starts = (minutes: 15 | 30 | 60, ts: string) =>
      new IntervalStatsAccumulator({ intervalMinutes: minutes })
        .add(contact({ id: 'a', enqueue: ts }))
        .queueRows()
        .map((r) => [r.interval_start, r.interval_minutes]);
    expect(starts(15, '2026-11-24T08:29:59Z')).toEqual([['2026-11-24T08:15:00Z', 15]]);
    expect(starts(15, '2026-11-24T08:30:00Z')).toEqual([['2026-11-24T08:30:00Z', 15]]);
    expect(starts(30, '2026-11-24T08:59:59Z')).toEqual([['2026-11-24T08:30:00Z', 30]]);
    expect(starts(60, '2026-11-24T00:00:00Z')).toEqual([['2026-11-24T00:00:00Z', 60]]);
    expect(starts(60, '2026-11-24T23:59:59.999Z')).toEqual([['2026-11-24T23:00:00Z', 60]]);
    expect(starts(15, '2026-11-24T10:05:00+02:00')).toEqual([['2026-11-24T08:00:00Z', 15]]);
  });

  it('counts a contact wholly in its enqueue interval, even when it ends in a later one', () => {
    const rows = new IntervalStatsAccumulator()
      .add(contact({ id: 'a', enqueue: '2026-11-24T08:14:59Z', duration: 600, talk: 3600 }))
      .queueRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      interval_start: '2026-11-24T08:00:00Z',
      talking_call_dur: 3600,
    });
  });

  it('separates answered (agent connected) from abandoned (no agent or no connection)', () => {
    const acc = new IntervalStatsAccumulator()
      .add(contact({ id: 'ans', duration: 30, talk: 200, acw: 20 }))
      .add(contact({ id: 'ab1', answered: false, duration: 12 }))
      .add({
        ...contact({ id: 'ab2', duration: 50 }),
        Agent: { Username: 'x', ConnectedToAgentTimestamp: null },
      });
    const [row] = acc.queueRows();
    expect(row).toMatchObject({
      answ_call_cnt: 1,
      aband_call_cnt: 2,
      talking_call_dur: 200,
      wrap_up_dur: 20,
      queued_and_answ_call_dur: 30,
      queued_and_aband_call_dur: 62,
      queued_answ_longest_que_dur: 30,
      queued_aband_longest_que_dur: 50,
      avg_avail_member_cnt: null,
      wait_dur: null,
    });
  });

  it('applies SLA and short-abandon thresholds with strict comparisons', () => {
    const acc = new IntervalStatsAccumulator({ slaSeconds: 20, shortAbandonSeconds: 5 });
    for (const [i, d] of [19, 20, 21].entries()) acc.add(contact({ id: `a${i}`, duration: d }));
    for (const [i, d] of [4, 5, 19, 20].entries())
      acc.add(contact({ id: `b${i}`, duration: d, answered: false }));
    const [row] = acc.queueRows();
    expect(row?.ans_servicelevel_cnt).toBe(1);
    expect(row?.aband_short_call_cnt).toBe(1);
    expect(row?.aband_within_sl_cnt).toBe(3);
    const other = new IntervalStatsAccumulator({ slaSeconds: 30, shortAbandonSeconds: 20 });
    for (const [i, d] of [4, 5, 19, 20].entries())
      other.add(contact({ id: `b${i}`, duration: d, answered: false }));
    expect(other.queueRows()[0]).toMatchObject({ aband_short_call_cnt: 3, aband_within_sl_cnt: 4 });
  });

  it('counts overflow in (TransferredToEndpoint) and out (TransferCompletedTimestamp)', () => {
    const acc = new IntervalStatsAccumulator()
      .add(contact({ id: 'a', transferredTo: true }))
      .add(contact({ id: 'b', transferOut: true }))
      .add(contact({ id: 'c', transferOut: true, transferredTo: true, answered: false }));
    expect(acc.queueRows()[0]).toMatchObject({ overflow_in_call_cnt: 2, overflow_out_call_cnt: 2 });
    expect(acc.agentQueueRows()[0]).toMatchObject({ transfer_out_call_cnt: 1, answ_call_cnt: 2 });
  });

  it('leaves contacts with no Queue (or no EnqueueTimestamp) out, and counts them', () => {
    const acc = new IntervalStatsAccumulator()
      .add(contact({ id: 'a', queue: null }))
      .add(contact({ id: 'b', enqueue: null }))
      .add(contact({ id: 'c' }));
    expect(acc.queueRows().map((r) => r.answ_call_cnt)).toEqual([1]);
    expect(acc.counts()).toMatchObject({
      recordsAdded: 3,
      distinctContacts: 3,
      queuedContacts: 1,
      withoutQueue: 1,
      withoutEnqueueTimestamp: 1,
    });
  });

  it('adds 0 for a missing Queue.Duration and leaves it out of the threshold counts', () => {
    const acc = new IntervalStatsAccumulator().add(
      contact({ id: 'a', duration: null, answered: false }),
    );
    expect(acc.queueRows()[0]).toMatchObject({
      aband_call_cnt: 1,
      queued_and_aband_call_dur: 0,
      aband_short_call_cnt: 0,
      aband_within_sl_cnt: 0,
    });
  });

  it('keeps one record per ContactId: the latest LastUpdateTimestamp, on a tie the last read', () => {
    const acc = new IntervalStatsAccumulator()
      .add(contact({ id: 'x', update: '2026-11-24T09:00:00Z', talk: 1 }))
      .add(contact({ id: 'x', update: '2026-11-24T10:00:00Z', talk: 2 }))
      .add(contact({ id: 'x', update: '2026-11-24T09:30:00Z', talk: 3 }))
      .add(contact({ id: 'y', update: '2026-11-24T10:00:00Z', talk: 10 }))
      .add(contact({ id: 'y', update: '2026-11-24T10:00:00Z', talk: 20 }));
    expect(acc.queueRows()[0]).toMatchObject({ answ_call_cnt: 2, talking_call_dur: 22 });
    expect(acc.counts()).toMatchObject({ recordsAdded: 5, distinctContacts: 2, duplicates: 3 });
  });

  it('drops a contact from the statistics when its latest version has no Queue', () => {
    const acc = new IntervalStatsAccumulator()
      .add(contact({ id: 'x', update: '2026-11-24T09:00:00Z' }))
      .add(contact({ id: 'x', update: '2026-11-24T10:00:00Z', queue: null }));
    expect(acc.queueRows()).toEqual([]);
  });

  it('merges partial results: a ContactId present in both counts once, the latest wins', () => {
    const p1 = new IntervalStatsAccumulator()
      .add(contact({ id: 'shared', update: '2026-11-24T09:00:00Z', talk: 1 }))
      .add(contact({ id: 'only1', talk: 100 }));
    const p2 = new IntervalStatsAccumulator()
      .add(contact({ id: 'shared', update: '2026-11-24T11:00:00Z', talk: 5 }))
      .add(contact({ id: 'only2', talk: 1000, queue: Q2 }));
    const total = new IntervalStatsAccumulator().merge(p1).merge(p2);
    const rows = total.queueRows();
    expect(rows.map((r) => [r.queue_id, r.answ_call_cnt, r.talking_call_dur])).toEqual([
      ['q-1', 2, 105],
      ['q-2', 1, 1000],
    ]);
    // Merge order does not change the result when timestamps differ.
    const reverse = new IntervalStatsAccumulator().merge(p2).merge(p1);
    expect(reverse.queueRows()).toEqual(rows);
    // On a tie, the partial merged later counts as read later.
    const t1 = new IntervalStatsAccumulator().add(contact({ id: 's', talk: 1 }));
    const t2 = new IntervalStatsAccumulator().add(contact({ id: 's', talk: 2 }));
    expect(
      new IntervalStatsAccumulator().merge(t1).merge(t2).queueRows()[0]?.talking_call_dur,
    ).toBe(2);
  });

  it('refuses to merge partials computed with different settings', () => {
    const a = new IntervalStatsAccumulator({ intervalMinutes: 15 });
    const b = new IntervalStatsAccumulator({ intervalMinutes: 30, slaSeconds: 10 });
    expect(() => a.merge(b)).toThrow(InvalidOptionsError);
    expect(() => a.merge(b)).toThrow(/intervalMinutes.*slaSeconds/);
  });

  it('round-trips a partial through a JSON snapshot', () => {
    const acc = new IntervalStatsAccumulator({ intervalMinutes: 30, arn: 'full' })
      .add(contact({ id: 'a', update: '2026-11-24T09:00:00Z' }))
      .add(contact({ id: 'b', queue: null }))
      .add({ ContactId: 'c' });
    const again = IntervalStatsAccumulator.fromSnapshot(
      JSON.parse(JSON.stringify(acc.toSnapshot())),
    );
    expect(again.toCsv('queue')).toBe(acc.toCsv('queue'));
    expect(again.counts()).toEqual(acc.counts());
    expect(again.intervalMinutes).toBe(30);
    expect(() => IntervalStatsAccumulator.fromSnapshot({ version: 2 })).toThrow(
      InvalidSnapshotError,
    );
  });

  it('sorts rows by interval, then queue id, then agent, and names the queue from the latest update', () => {
    const acc = new IntervalStatsAccumulator()
      .add(contact({ id: '1', enqueue: '2026-11-24T09:00:00Z', queue: Q2, agent: 'b' }))
      .add(
        contact({
          id: '2',
          enqueue: '2026-11-24T09:00:00Z',
          queue: Q1,
          agent: 'z',
          name: 'Old',
          update: '2026-11-24T09:00:00Z',
        }),
      )
      .add(
        contact({
          id: '3',
          enqueue: '2026-11-24T09:01:00Z',
          queue: Q1,
          agent: 'a',
          name: 'New',
          update: '2026-11-24T10:00:00Z',
        }),
      )
      .add(contact({ id: '4', enqueue: '2026-11-24T08:00:00Z', queue: Q2, agent: 'c' }));
    expect(
      acc.queueRows().map((r) => [r.interval_start.slice(11, 16), r.queue_id, r.queue_name]),
    ).toEqual([
      ['08:00', 'q-2', 'Sales'],
      ['09:00', 'q-1', 'New'],
      ['09:00', 'q-2', 'Sales'],
    ]);
    expect(
      acc
        .agentQueueRows()
        .map((r) => [r.interval_start.slice(11, 16), r.queue_id, r.agent_username]),
    ).toEqual([
      ['08:00', 'q-2', 'c'],
      ['09:00', 'q-1', 'a'],
      ['09:00', 'q-1', 'z'],
      ['09:00', 'q-2', 'b'],
    ]);
  });

  it('writes CSV that parses back to the rows, quoting names when needed', () => {
    const acc = new IntervalStatsAccumulator().add(
      contact({ id: 'a', name: 'Technical, "Tier 2"', agent: 'o,neil' }),
    );
    const q = Papa.parse<Record<string, string>>(acc.toCsv('queue'), {
      header: true,
      skipEmptyLines: true,
    });
    expect(q.data[0]?.queue_name).toBe('Technical, "Tier 2"');
    expect(q.data[0]?.wait_dur).toBe('');
    const aq = Papa.parse<Record<string, string>>(acc.toCsv('agent-queue'), {
      header: true,
      skipEmptyLines: true,
    });
    expect(aq.data[0]?.agent_username).toBe('o,neil');
  });

  it('rejects invalid settings, listing every problem', () => {
    expect(
      () => new IntervalStatsAccumulator({ intervalMinutes: 20 as 15, slaSeconds: -1 }),
    ).toThrow(/intervalMinutes.*slaSeconds/);
  });

  it('agent-queue rows summed over agents equal the queue rows’ answered figures; merge = one pass (property)', () => {
    const spec = fc.record({
      id: fc.integer({ min: 0, max: 40 }).map((n) => `c${n}`),
      enqueue: fc
        .integer({ min: 0, max: 86_399 })
        .map((s) => new Date(Date.UTC(2026, 10, 24) + s * 1000).toISOString()),
      duration: fc.option(fc.integer({ min: 0, max: 60 }), { nil: null }),
      answered: fc.boolean(),
      agent: fc.constantFrom('a', 'b', 'c'),
      talk: fc.integer({ min: 0, max: 900 }),
      acw: fc.integer({ min: 0, max: 300 }),
      queue: fc.constantFrom(Q1, Q2, null),
      update: fc.integer({ min: 0, max: 5 }).map((h) => `2026-11-24T1${h}:00:00Z`),
      transferOut: fc.boolean(),
      transferredTo: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(spec, { maxLength: 60 }),
        fc.nat(60),
        fc.constantFrom(15, 30, 60),
        (specs, cut, minutes) => {
          const opts = { intervalMinutes: minutes as 15 | 30 | 60 };
          const records = specs.map(contact);
          const one = new IntervalStatsAccumulator(opts);
          for (const r of records) one.add(r);
          const a = new IntervalStatsAccumulator(opts);
          const b = new IntervalStatsAccumulator(opts);
          for (const [i, r] of records.entries()) (i < cut ? a : b).add(r);
          const merged = new IntervalStatsAccumulator(opts).merge(a).merge(b);
          expect(merged.toCsv('queue')).toBe(one.toCsv('queue'));
          expect(merged.toCsv('agent-queue')).toBe(one.toCsv('agent-queue'));
          for (const q of one.queueRows()) {
            const agents = one
              .agentQueueRows()
              .filter((r) => r.interval_start === q.interval_start && r.queue_id === q.queue_id);
            expect(agents.reduce((s, r) => s + r.answ_call_cnt, 0)).toBe(q.answ_call_cnt);
            expect(agents.reduce((s, r) => s + r.talking_call_dur, 0)).toBe(q.talking_call_dur);
            expect(agents.reduce((s, r) => s + r.wrap_up_dur, 0)).toBe(q.wrap_up_dur);
          }
          const distinctQueued = new Set(specs.filter((s) => s.queue !== null).map((s) => s.id));
          const counted = one
            .queueRows()
            .reduce((s, r) => s + r.answ_call_cnt + r.aband_call_cnt, 0);
          expect(counted).toBeLessThanOrEqual(distinctQueued.size);
          expect(one.counts().distinctContacts).toBe(new Set(specs.map((s) => s.id)).size);
        },
      ),
      { numRuns: 150 },
    );
  });
});
