import {
  computeIntervalStats,
  ctrCsvRow,
  type FirehoseItem,
  mapAgentPerformanceReport,
} from '@connect-wfm/ctr-csv-mapper';
import { RtaDeltaCollapser } from '@connect-wfm/rta-delta-collapser';
import {
  type AgentEventOutput,
  type AgentQueueStatsTruthRow,
  addStatsPartials,
  type CtrObjectOutput,
  type ReportOutput,
  type StatsPartialRow,
  TRUTH_LOGGED_OUT_CODE,
} from '../../src/index.js';
import { readItems, runModel } from './helpers.js';

describe('ground truth', () => {
  const faults = { duplicate: 0.01, reorder: 0.01, lateUpdate: 0.2 };
  const { sim, outputs } = runModel({ seed: 33, agents: 20, faults }, 12);
  const objects = outputs.filter((o): o is CtrObjectOutput => o.kind === 'ctr-object');
  let items: FirehoseItem[] = [];

  beforeAll(async () => {
    for (const o of objects) items.push(...(await readItems(o.body, o.key)));
    items = items.filter((i) => i.kind === 'record');
  });

  it('expects exactly the CSV row the mapper writes for each contact (latest version)', () => {
    const latest = new Map<string, FirehoseItem>();
    for (const i of items) if (i.kind === 'record') latest.set(i.record.ContactId, i);
    const contacts = sim.contactTruth();
    expect(contacts.length).toBeGreaterThan(500);
    expect(new Set(latest.keys())).toEqual(new Set(contacts.map((c) => c.contactId)));
    for (const c of contacts) {
      const item = latest.get(c.contactId);
      if (item?.kind !== 'record') throw new Error(`no record for ${c.contactId}`);
      expect(`${c.csvRow}\n`).toBe(ctrCsvRow(item.record));
    }
    expect(contacts.some((c) => c.versions > 1)).toBe(true);
    expect(contacts.some((c) => !c.answered)).toBe(true);
    expect(contacts.some((c) => c.transferredOut)).toBe(true);
  });

  it.each([15, 30, 60] as const)(
    'computes the interval statistics the mapper computes (%i minutes)',
    async (intervalMinutes) => {
      const acc = await computeIntervalStats(
        (async function* () {
          yield* items;
        })(),
        { intervalMinutes },
      );
      const truth = sim.intervalStats({ intervalMinutes });
      const strip = (rows: readonly object[]) =>
        rows.map((r) => {
          const { avg_avail_member_cnt: _a, wait_dur: _w, ...rest } = r as Record<string, unknown>;
          return rest;
        });
      expect(strip(acc.queueRows())).toEqual(truth.queueRows);
      expect(acc.agentQueueRows()).toEqual(truth.agentQueueRows);
      expect(truth.queueRows.length).toBeGreaterThan(10);
    },
  );

  it('gives what adding up one statistics partial per object yields (perObject)', async () => {
    const queue: StatsPartialRow[] = [];
    const agentQueue: StatsPartialRow[] = [];
    for (const o of objects) {
      const own = (await readItems(o.body, o.key)).filter((i) => i.kind === 'record');
      const acc = await computeIntervalStats(
        (async function* () {
          yield* own;
        })(),
      );
      queue.push(...(acc.queueRows() as unknown as StatsPartialRow[]));
      agentQueue.push(...(acc.agentQueueRows() as unknown as StatsPartialRow[]));
    }
    const perObject = sim.intervalStats({ perObject: true });
    expect(addStatsPartials(queue)).toEqual(perObject.queueRows);
    expect(addStatsPartials<AgentQueueStatsTruthRow>(agentQueue)).toEqual(perObject.agentQueueRows);
    // late updates land in later objects: those contacts are in two partials
    const once = sim.intervalStats();
    const count = (rows: readonly { answ_call_cnt: number; aband_call_cnt: number }[]) =>
      rows.reduce((n, r) => n + r.answ_call_cnt + r.aband_call_cnt, 0);
    expect(count(perObject.queueRows)).toBeGreaterThan(count(once.queueRows));
  });

  it('writes reports the mapper reads back as the expected agent performance', async () => {
    const reports = outputs.filter((o): o is ReportOutput => o.kind === 'report');
    expect(reports.length).toBeGreaterThan(15);
    const mapped = [];
    for (const r of reports) mapped.push(...(await mapAgentPerformanceReport(r.body)).rows);
    const truth = sim.agentPerformanceTruth();
    expect(mapped).toHaveLength(truth.length);
    mapped.forEach((row, n) => {
      const t = truth[n];
      expect(row.agent_username).toBe(t?.agent_username);
      expect(row.interval_start).toBe(t?.interval_start);
      expect(row.tot_work_dur).toBe(t?.onlineSeconds);
      expect(row.pause_dur ?? 0).toBe(t?.nonProductiveSeconds);
      expect(row.wait_dur ?? 0).toBe(t?.idleSeconds);
      expect(t?.onlineSeconds).toBeLessThanOrEqual(1800);
    });
  });

  it('agrees with the collapser on every final agent state (an independent derivation)', () => {
    const collapser = new RtaDeltaCollapser();
    let seq = 1000n;
    collapser.ingest(
      outputs
        .filter((o): o is AgentEventOutput => o.kind === 'agent-event')
        .map((o) => ({
          shardId: 'shardId-000000000000',
          sequenceNumber: String(seq++),
          data: Buffer.from(o.data),
        })),
    );
    const wfm = new Map(collapser.snapshot().map((s) => [s.userCode, s.stateCode]));
    const truth = sim.agentTruth();
    expect(truth.some((a) => !a.state.loggedOut)).toBe(true);
    expect(truth.some((a) => a.state.loggedOut && a.state.eventId !== null)).toBe(true);
    for (const a of truth) {
      expect(wfm.get(a.username) ?? TRUTH_LOGGED_OUT_CODE).toBe(a.state.stateCode);
    }
  });

  it('keeps each timeline in time order, logged out after every LOGOUT', () => {
    const logouts = new Map<string, number[]>();
    for (const o of outputs) {
      if (o.kind === 'agent-event' && o.eventType === 'LOGOUT' && o.fault === undefined) {
        const id = JSON.parse(o.data).EventId as string;
        logouts.set(o.username, [...(logouts.get(o.username) ?? []), id.length]);
      }
    }
    for (const a of sim.agentTruth()) {
      const tl = sim.timeline(a.username);
      for (let i = 1; i < tl.length; i++) {
        expect((tl[i]?.since ?? 0) > (tl[i - 1]?.since ?? 0)).toBe(true);
        expect(tl[i]?.stateCode).not.toBe(
          tl[i - 1]?.stateCode === tl[i]?.stateCode ? '' : '\u0000',
        );
      }
      if (logouts.has(a.username)) {
        expect(tl.some((t) => t.stateCode === TRUTH_LOGGED_OUT_CODE)).toBe(true);
      }
    }
  });
});
