import { Readable } from 'node:stream';
import { csvLine } from './csv-field.js';
import {
  AgentReportHeaderError,
  AgentReportTooLargeError,
  AgentReportValueError,
  InvalidOptionsError,
} from './errors.js';
import { agentPerformanceOptionsSchema, checkOptions } from './options.js';
import type {
  AgentPerformanceOptions,
  AgentPerformanceResult,
  AgentPerformanceRow,
  ByteSource,
  IntervalMinutes,
} from './types.js';

/**
 * The agent performance report (docs/historical-formats.md#agent-performance): Connect's scheduled `TeleoptiAgentPerformance`
 * CSV. By default it is delivered unchanged ({@link agentPerformancePassThrough}); the optional
 * mapping ({@link mapAgentPerformanceReport}) turns it into the WFM's agent performance columns.
 */

/** Columns of the mapped agent performance CSV, in order. */
export const AGENT_PERFORMANCE_COLUMNS = [
  'interval_start',
  'interval_minutes',
  'agent_username',
  'tot_work_dur',
  'pause_dur',
  'avail_dur',
  'wait_dur',
  'admin_dur',
  'direct_out_call_cnt',
  'direct_out_call_dur',
  'direct_in_call_cnt',
  'direct_in_call_dur',
] as const;

type Needed = 'agent' | 'interval' | 'idle' | 'nonProductive' | 'online';

/** Each needed column with the normalized header names accepted for it (first is the documented one). */
const ACCEPTED: Record<Needed, { label: string; names: readonly string[] }> = {
  agent: { label: 'Agent', names: ['agent', 'agentname', 'agentlogin', 'agentusername', 'login'] },
  interval: { label: 'Interval', names: ['interval', 'startinterval', 'intervalstart'] },
  idle: { label: 'Agent idle time', names: ['agentidletime', 'idletime'] },
  nonProductive: { label: 'Non-Productive Time', names: ['nonproductivetime', 'nonproductive'] },
  online: { label: 'Online time', names: ['onlinetime'] },
};

/**
 * Normalizes a report header for matching: lower case, letters and digits only.
 *
 * @example
 * normalizeHeader('Non-Productive Time'); // 'nonproductivetime'
 */
export function normalizeHeader(header: string): string {
  return header.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const HMS = /^(\d+):([0-5]\d):([0-5]\d)$/;
const SECONDS = /^\d+(?:\.\d+)?$/;

/**
 * A report duration in whole seconds: `123`, `123.0`, `hh:mm:ss` (hours may exceed 24), or `-`
 * / empty for "no value" (`null`). Returns `undefined` when the text is none of these.
 *
 * @example
 * parseReportDuration('01:02:03'); // 3723
 * parseReportDuration('-'); // null
 */
export function parseReportDuration(text: string): number | null | undefined {
  const t = text.trim();
  if (t === '-' || t === '') return null;
  if (SECONDS.test(t)) return Math.round(Number(t));
  const m = HMS.exec(t);
  if (m === null) return undefined;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/i;

/**
 * An interval start (ISO date, UTC unless an offset is given) in epoch ms; undefined when the
 * text is not an ISO date, or names a date or time that does not exist (`2026-02-30`,
 * `2026-13-45T27:00`: `Date.UTC` would roll those over into another day instead).
 */
function parseInterval(text: string): number | undefined {
  let t = text.trim();
  // A range "start - end" (or "start to end"): the start is what counts.
  const range = /^(.+?)\s+(?:-|–|to)\s+.+$/.exec(t);
  if (range !== null) t = range[1] as string;
  const m = ISO.exec(t);
  if (m === null) return undefined;
  const parts = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const [year, month, day, hour, minute, second] = parts as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  if (
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day ||
    back.getUTCHours() !== hour ||
    back.getUTCMinutes() !== minute ||
    back.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  const zone = m[7];
  if (zone !== undefined && /^[+-]/.test(zone)) {
    const z = zone.replace(':', '');
    const sign = z.startsWith('-') ? -1 : 1;
    const zoneHours = Number(z.slice(1, 3));
    const zoneMinutes = Number(z.slice(3, 5));
    if (zoneHours > 23 || zoneMinutes > 59) return undefined;
    ms -= sign * (zoneHours * 60 + zoneMinutes) * 60_000;
  }
  return ms;
}

function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** Default bound on the report's size (a day of 2,000 agents in 30-minute rows is about 5 MB). */
export const DEFAULT_MAX_REPORT_BYTES = 32 * 1024 * 1024;

/**
 * The report as text, read only up to `max` bytes: a larger input is refused as soon as it
 * passes the limit (a stream is then closed), so memory stays bounded whatever it is fed.
 */
async function collectText(
  source: string | Uint8Array | ByteSource,
  max: number,
  sourceName: string,
): Promise<string> {
  if (typeof source === 'string') {
    if (source.length > max || Buffer.byteLength(source) > max) {
      throw new AgentReportTooLargeError(sourceName, max);
    }
    return source;
  }
  if (source instanceof Uint8Array) {
    if (source.length > max) throw new AgentReportTooLargeError(sourceName, max);
    return Buffer.from(source.buffer, source.byteOffset, source.length).toString('utf8');
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buf.length;
    // Leaving the loop early closes the source (a Readable is destroyed).
    if (size > max) throw new AgentReportTooLargeError(sourceName, max);
    parts.push(buf);
  }
  return Buffer.concat(parts).toString('utf8');
}

function halves(v: number | null): [number | null, number | null] {
  if (v === null) return [null, null];
  const second = Math.floor(v / 2);
  return [v - second, second];
}

/**
 * Maps Connect's scheduled agent performance report (CSV) to the WFM's agent performance rows
 * (docs/historical-formats.md#agent-performance): `tot_work_dur` = Online time, `pause_dur` = Non-Productive Time,
 * `avail_dur` = Online time − Non-Productive Time, `wait_dur` = Agent idle time, in whole
 * seconds; the other columns are empty. Headers are matched by normalized name (case, spaces and
 * punctuation ignored). With `split15`, each 30-minute row becomes two 15-minute rows with every
 * duration halved (the first half gets the odd second). Rows whose interval cell is empty or a
 * total (`Total`, `Totals`) are skipped and counted.
 *
 * The report is small (one row per agent and interval), so it is read whole.
 *
 * @throws {@link AgentReportHeaderError} when a needed column is missing (lists found and expected headers).
 * @throws {@link AgentReportValueError} when a duration or interval cannot be read.
 * @throws {@link AgentReportTooLargeError} when the input is larger than `maxReportBytes`.
 * @example
 * const { csv } = await mapAgentPerformanceReport(
 *   'Agent,Interval,Agent idle time,Non-Productive Time,Online time\n' +
 *     'agent.alvarez,2026-11-24T08:00:00Z,00:10:00,300,1800\n',
 *   { split15: true },
 * );
 */
export async function mapAgentPerformanceReport(
  source: string | Uint8Array | ByteSource,
  options: AgentPerformanceOptions = {},
): Promise<AgentPerformanceResult> {
  checkOptions('agent performance options', agentPerformanceOptionsSchema, options);
  const reportMinutes: IntervalMinutes = options.reportIntervalMinutes ?? 30;
  const split = options.split15 ?? false;
  if (split && reportMinutes !== 30) {
    throw new InvalidOptionsError('agent performance options', [
      {
        path: 'split15',
        message: `only 30-minute rows can be split (reportIntervalMinutes is ${reportMinutes})`,
      },
    ]);
  }
  const sourceName = options.sourceName ?? '(report)';
  const text = await collectText(
    source,
    options.maxReportBytes ?? DEFAULT_MAX_REPORT_BYTES,
    sourceName,
  );
  // Loaded here, not at the top: the CTR paths never need it, and a Lambda's cold start (or
  // any process that only converts CTRs) should not pay for parsing papaparse.
  const { default: Papa } = await import('papaparse');
  const parsed = Papa.parse<string[]>(text, {
    header: false,
    delimiter: ',',
    skipEmptyLines: 'greedy',
  });
  const table = parsed.data;
  const header = (table[0] ?? []).map((h) => h.replace(/^\uFEFF/, '').trim());
  const normalized = header.map(normalizeHeader);
  const index = {} as Record<Needed, number>;
  const missing: string[] = [];
  for (const key of Object.keys(ACCEPTED) as Needed[]) {
    const spec = ACCEPTED[key];
    const at = normalized.findIndex((h) => spec.names.includes(h));
    if (at < 0) missing.push(spec.label);
    index[key] = at;
  }
  if (missing.length > 0) {
    const expected = (Object.keys(ACCEPTED) as Needed[]).map((k) => {
      const spec = ACCEPTED[k];
      return `${spec.label} (${spec.names.join('|')})`;
    });
    throw new AgentReportHeaderError(sourceName, header, missing, expected);
  }

  const rows: AgentPerformanceRow[] = [];
  let skipped = 0;
  for (let r = 1; r < table.length; r++) {
    const cells = table[r] as string[];
    const line = r + 1;
    const cell = (k: Needed): string => cells[index[k]] ?? '';
    const intervalText = cell('interval').trim();
    if (
      intervalText === '' ||
      /^totals?$/i.test(intervalText) ||
      /^totals?$/i.test(cell('agent').trim())
    ) {
      skipped++;
      continue;
    }
    const start = parseInterval(intervalText);
    if (start === undefined) {
      throw new AgentReportValueError(
        sourceName,
        line,
        header[index.interval] as string,
        intervalText,
        'an ISO-8601 date and time that exists',
      );
    }
    if (start % (reportMinutes * 60_000) !== 0) {
      // A row that does not start on the report's interval grid: mapping it as one would file
      // its time under the wrong interval (and a split would overlap the next row).
      throw new AgentReportValueError(
        sourceName,
        line,
        header[index.interval] as string,
        intervalText,
        `the start of a ${reportMinutes}-minute interval counted from 00:00 UTC (check reportIntervalMinutes)`,
      );
    }
    const duration = (k: Needed): number | null => {
      const raw = cell(k);
      const v = parseReportDuration(raw);
      if (v === undefined) {
        throw new AgentReportValueError(
          sourceName,
          line,
          header[index[k]] as string,
          raw,
          'whole seconds, hh:mm:ss or "-"',
        );
      }
      return v;
    };
    const online = duration('online');
    const pause = duration('nonProductive');
    const idle = duration('idle');
    const avail = online === null ? null : Math.max(0, online - (pause ?? 0));
    const agent = cell('agent').trim();
    const base = {
      admin_dur: null,
      direct_out_call_cnt: null,
      direct_out_call_dur: null,
      direct_in_call_cnt: null,
      direct_in_call_dur: null,
    } as const;
    if (!split) {
      rows.push({
        interval_start: isoSeconds(start),
        interval_minutes: reportMinutes,
        agent_username: agent,
        tot_work_dur: online,
        pause_dur: pause,
        avail_dur: avail,
        wait_dur: idle,
        ...base,
      });
      continue;
    }
    const [on1, on2] = halves(online);
    const [pa1, pa2] = halves(pause);
    const [av1, av2] = halves(avail);
    const [id1, id2] = halves(idle);
    rows.push(
      {
        interval_start: isoSeconds(start),
        interval_minutes: 15,
        agent_username: agent,
        tot_work_dur: on1,
        pause_dur: pa1,
        avail_dur: av1,
        wait_dur: id1,
        ...base,
      },
      {
        interval_start: isoSeconds(start + 15 * 60_000),
        interval_minutes: 15,
        agent_username: agent,
        tot_work_dur: on2,
        pause_dur: pa2,
        avail_dur: av2,
        wait_dur: id2,
        ...base,
      },
    );
  }
  const formulaEscape = options.formulaEscape ?? 'none';
  let csv = csvLine(AGENT_PERFORMANCE_COLUMNS);
  for (const row of rows) {
    csv += csvLine(
      AGENT_PERFORMANCE_COLUMNS.map((c) => row[c]),
      formulaEscape,
    );
  }
  return { rows, csv, skippedRows: skipped };
}

/**
 * The default handling of the agent performance report: delivered unchanged. Returns a byte
 * stream with exactly the input bytes (no decoding, no BOM or line-ending changes).
 *
 * @example
 * await pipeline(agentPerformancePassThrough(s3Body), sftpWriteStream);
 */
export function agentPerformancePassThrough(source: ByteSource): Readable {
  async function* bytes(): AsyncGenerator<Buffer, void, undefined> {
    for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
      yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}
