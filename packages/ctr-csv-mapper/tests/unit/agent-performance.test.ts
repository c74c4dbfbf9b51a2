import { Readable } from 'node:stream';
import {
  AGENT_PERFORMANCE_COLUMNS,
  AgentReportHeaderError,
  AgentReportValueError,
  agentPerformancePassThrough,
  InvalidOptionsError,
  mapAgentPerformanceReport,
  normalizeHeader,
  parseReportDuration,
} from '@connect-wfm/ctr-csv-mapper';
import Papa from 'papaparse';
import { chunked, collectBytes } from './helpers.js';

const REPORT =
  'Agent,Interval,Agent idle time,Non-Productive Time,Online time\r\n' +
  'agent.alvarez,2026-11-24T08:00:00Z,600,301,1801\r\n' +
  'agent.baker,2026-11-24T08:30:00Z,00:10:00,-,00:30:00\r\n';

describe('agent performance report (docs/historical-formats.md#agent-performance)', () => {
  it('passes the report through byte-identical (BOM, CRLF, odd bytes included)', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(REPORT, 'utf8'),
      Buffer.from([0xff, 0x00, 0x0d]),
    ]);
    const out = await collectBytes(agentPerformancePassThrough(Readable.from(chunked(bytes, 7))));
    expect(out.equals(bytes)).toBe(true);
  });

  it('maps Online time, Non-Productive Time and Agent idle time to the WFM columns', async () => {
    const { rows, csv, skippedRows } = await mapAgentPerformanceReport(REPORT);
    expect(skippedRows).toBe(0);
    expect(rows).toEqual([
      {
        interval_start: '2026-11-24T08:00:00Z',
        interval_minutes: 30,
        agent_username: 'agent.alvarez',
        tot_work_dur: 1801,
        pause_dur: 301,
        avail_dur: 1500,
        wait_dur: 600,
        admin_dur: null,
        direct_out_call_cnt: null,
        direct_out_call_dur: null,
        direct_in_call_cnt: null,
        direct_in_call_dur: null,
      },
      {
        interval_start: '2026-11-24T08:30:00Z',
        interval_minutes: 30,
        agent_username: 'agent.baker',
        tot_work_dur: 1800,
        pause_dur: null,
        avail_dur: 1800,
        wait_dur: 600,
        admin_dur: null,
        direct_out_call_cnt: null,
        direct_out_call_dur: null,
        direct_in_call_cnt: null,
        direct_in_call_dur: null,
      },
    ]);
    expect(csv.split('\n')[0]).toBe(AGENT_PERFORMANCE_COLUMNS.join(','));
    expect(csv.split('\n')[1]).toBe('2026-11-24T08:00:00Z,30,agent.alvarez,1801,301,1500,600,,,,,');
    expect(csv.split('\n')[2]).toBe('2026-11-24T08:30:00Z,30,agent.baker,1800,,1800,600,,,,,');
  });

  it('splits 30-minute rows into two 15-minute rows, the first half getting the odd second', async () => {
    const { rows } = await mapAgentPerformanceReport(REPORT, { split15: true });
    expect(
      rows.map((r) => [
        r.interval_start,
        r.interval_minutes,
        r.tot_work_dur,
        r.pause_dur,
        r.avail_dur,
        r.wait_dur,
      ]),
    ).toEqual([
      ['2026-11-24T08:00:00Z', 15, 901, 151, 750, 300],
      ['2026-11-24T08:15:00Z', 15, 900, 150, 750, 300],
      ['2026-11-24T08:30:00Z', 15, 900, null, 900, 300],
      ['2026-11-24T08:45:00Z', 15, 900, null, 900, 300],
    ]);
  });

  it('matches headers by normalized name, in any order, ignoring extra columns', async () => {
    const text =
      '\uFEFF"ONLINE TIME","agent_login","StartInterval","EndInterval","non productive time","Agent Idle-Time","Contacts handled"\n' +
      "3600,o'neil,2026-11-24 09:00,2026-11-24 09:30,0,60,4\n";
    const { rows } = await mapAgentPerformanceReport(text);
    expect(rows[0]).toMatchObject({
      interval_start: '2026-11-24T09:00:00Z',
      agent_username: "o'neil",
      tot_work_dur: 3600,
      pause_dur: 0,
      wait_dur: 60,
    });
    expect(normalizeHeader('Non-Productive Time')).toBe('nonproductivetime');
  });

  it('reads durations as whole seconds or hh:mm:ss, and "-" as no value', () => {
    expect(parseReportDuration('42')).toBe(42);
    expect(parseReportDuration('42.0')).toBe(42);
    expect(parseReportDuration('01:02:03')).toBe(3723);
    expect(parseReportDuration('100:00:00')).toBe(360000);
    expect(parseReportDuration('-')).toBeNull();
    expect(parseReportDuration(' ')).toBeNull();
    expect(parseReportDuration('1:75:00')).toBeUndefined();
    expect(parseReportDuration('soon')).toBeUndefined();
  });

  it('skips totals rows and keeps quoted agent names with commas', async () => {
    const text =
      'Agent,Interval,Agent idle time,Non-Productive Time,Online time\n' +
      '"Baker, Ann",2026-11-24T08:00:00Z,1,2,3\n' +
      'Total,,1,2,3\n';
    const result = await mapAgentPerformanceReport(text);
    expect(result.rows.map((r) => r.agent_username)).toEqual(['Baker, Ann']);
    expect(result.skippedRows).toBe(1);
    expect(Papa.parse<string[]>(result.csv).data[1]?.[2]).toBe('Baker, Ann');
  });

  it('fails on unknown headers with an error that lists the headers found and expected', async () => {
    const err = await mapAgentPerformanceReport('Name,When,Idle\nx,y,z\n', {
      sourceName: 'Reports/x.csv',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentReportHeaderError);
    const e = err as AgentReportHeaderError;
    expect(e.code).toBe('AGENT_REPORT_HEADERS');
    expect(e.found).toEqual(['Name', 'When', 'Idle']);
    expect(e.missing).toEqual([
      'Agent',
      'Interval',
      'Agent idle time',
      'Non-Productive Time',
      'Online time',
    ]);
    expect(e.message).toContain('Reports/x.csv');
    expect(e.message).toContain('"Name", "When", "Idle"');
    expect(e.message).toContain('Online time (onlinetime)');
  });

  it('fails on an unreadable duration or interval with the line and column', async () => {
    const bad =
      'Agent,Interval,Agent idle time,Non-Productive Time,Online time\na,2026-11-24T08:00:00Z,1,2,3\nb,2026-11-24T08:00:00Z,1,x,3\n';
    await expect(mapAgentPerformanceReport(bad)).rejects.toThrow(AgentReportValueError);
    await expect(mapAgentPerformanceReport(bad)).rejects.toThrow(
      /line 3, column "Non-Productive Time"/,
    );
    const badDate =
      'Agent,Interval,Agent idle time,Non-Productive Time,Online time\na,yesterday,1,2,3\n';
    await expect(mapAgentPerformanceReport(badDate)).rejects.toThrow(/line 2, column "Interval"/);
  });

  it('fails on an interval that does not exist or does not start on the report grid', async () => {
    const head = 'Agent,Interval,Agent idle time,Non-Productive Time,Online time\n';
    for (const when of [
      '2026-13-45T27:00:00Z',
      '2026-02-30T08:00:00Z',
      '2026-11-24T24:00:00Z',
      '2026-11-24T08:00:00+25:00',
    ]) {
      await expect(mapAgentPerformanceReport(`${head}a,${when},1,2,3\n`)).rejects.toThrow(
        `"${when}" is not an ISO-8601 date and time that exists`,
      );
    }
    await expect(
      mapAgentPerformanceReport(`${head}a,2026-11-24T08:15:00Z,1,2,3\n`, { split15: true }),
    ).rejects.toThrow('is not the start of a 30-minute interval counted from 00:00 UTC');
    // The same row is fine in a 15-minute report, and so is a 30-minute start given with an offset.
    const quarter = await mapAgentPerformanceReport(`${head}a,2026-11-24T08:15:00Z,1,2,3\n`, {
      reportIntervalMinutes: 15,
    });
    expect(quarter.rows.map((r) => [r.interval_start, r.interval_minutes])).toEqual([
      ['2026-11-24T08:15:00Z', 15],
    ]);
    const offset = await mapAgentPerformanceReport(`${head}a,2026-11-24T10:00:00+01:30,1,2,3\n`);
    expect(offset.rows[0]?.interval_start).toBe('2026-11-24T08:30:00Z');
  });

  it('accepts a stream or bytes as input, and refuses to split rows that are not 30 minutes', async () => {
    const fromStream = await mapAgentPerformanceReport(
      Readable.from(chunked(Buffer.from(REPORT), 5)),
    );
    expect(fromStream.rows).toHaveLength(2);
    expect((await mapAgentPerformanceReport(Buffer.from(REPORT))).rows).toHaveLength(2);
    await expect(
      mapAgentPerformanceReport(REPORT, { split15: true, reportIntervalMinutes: 15 }),
    ).rejects.toThrow(InvalidOptionsError);
  });
});
