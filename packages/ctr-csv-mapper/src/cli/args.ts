/**
 * The `ctr-csv` command line: help text and option parsing.
 */
import { parseArgs } from 'node:util';
import type { ArnMode, FormulaEscape, IntervalMinutes } from '../types.js';

export const HELP = `Usage: ctr-csv [options] [FILE ... | -]

Converts Amazon Connect contact trace records, as Kinesis Data Firehose writes them to S3
(JSON objects concatenated with no delimiter or one per line, optionally GZIP-compressed),
into the CSV files the WFM ingests. Several FILEs are read in order as one stream of records;
statistics are computed over all of them. With no FILE, or when FILE is -, standard input is read.

Options:
  -f, --format FORMAT      What to write (default: ctr):
                             ctr                the raw CTR CSV, one row per record (16 columns)
                             queue-stats        queue statistics per interval and queue
                             agent-queue-stats  agent-queue statistics per interval, queue, agent
                             agent-performance  map Connect's agent performance report (CSV input,
                                                columns Agent, Interval, Agent idle time,
                                                Non-Productive Time, Online time) to the WFM's
                                                agent performance rows. To deliver a report
                                                unmapped (what the historical feed does by
                                                default), copy the file as it is.
                                                A report over 32 MiB is refused.
  Statistics formats only (queue-stats, agent-queue-stats):
      --interval MINUTES   Statistics interval: 15, 30 or 60, from 00:00 UTC (default: 15)
      --sla SECONDS        Service level threshold, Queue.Duration < SLA (default: 20)
      --short-abandon SECONDS
                           Short-abandon threshold, Queue.Duration < value (default: 5)
  ctr and statistics formats:
      --arn id|full        Write ARNs as their id (last path segment) or in full (default: id)
  agent-performance only:
      --report-interval MINUTES
                           The report's interval: 15, 30 or 60 (default: 30); each row's
                           Interval must start on that grid, counted from 00:00 UTC
      --split-15           Split each 30-minute row into two 15-minute rows, every duration
                           halved (the first half gets the odd second)
  -o, --output FILE        Write to FILE instead of standard output. FILE appears only once
                           complete (written beside it, then renamed), so a failed run leaves
                           no partial file; FILE must not be one of the inputs
      --formula-escape none|quote-prefix
                           quote-prefix writes text that starts with =, +, -, @, tab or CR
                           as '... (for files opened in a spreadsheet); the default, none,
                           writes values as they are, which is what the WFM imports
  -h, --help               Show this help

Every input FILE is checked before anything is written: a missing, unreadable or directory
input is an error (exit 1) with no output.

Exit status:
  0  every record was converted
  2  some records were bad: the good ones are still written, and standard error gives the
     count of good and bad records, lists the first 100 bad records with file, byte offset (in
     the decompressed input), reason and first bytes, then counts the rest per reason
  1  usage error, unreadable input, unwritable output (a full disk included), or an agent
     performance report that cannot be mapped

When standard error is a terminal and the input is large (over 16 MB) or several files, progress
(files, MB, records/s) is shown on standard error. Standard output only ever carries CSV.

Examples:
  ctr-csv ctr-2026-11-24-08.json > ctr.csv
  ctr-csv --format queue-stats --interval 30 --sla 15 objects/*.json.gz -o queue.csv
  ctr-csv --format agent-performance --split-15 TeleoptiAgentPerformance.csv
`;

export const FORMATS = ['ctr', 'queue-stats', 'agent-queue-stats', 'agent-performance'] as const;
export type Format = (typeof FORMATS)[number];

/** A usage or input problem the user can fix (exit 1, message only). */
export class UsageError extends Error {}

/** The parsed command line. */
export interface Settings {
  readonly format: Format;
  readonly interval: IntervalMinutes;
  readonly sla: number;
  readonly shortAbandon: number;
  readonly arn: ArnMode;
  readonly split15: boolean;
  readonly reportInterval: IntervalMinutes;
  readonly output: string | undefined;
  readonly formulaEscape: FormulaEscape;
  readonly inputs: readonly string[];
}

function parseSeconds(name: string, value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new UsageError(`--${name} must be a number of seconds ≥ 0, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Parses the command line; throws {@link UsageError} with a message naming the bad option. */
export function parseSettings(argv: string[]): Settings | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: 'string', short: 'f' },
      interval: { type: 'string' },
      sla: { type: 'string' },
      'short-abandon': { type: 'string' },
      arn: { type: 'string' },
      'split-15': { type: 'boolean' },
      'report-interval': { type: 'string' },
      output: { type: 'string', short: 'o' },
      'formula-escape': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const format = (values.format ?? 'ctr') as Format;
  if (!FORMATS.includes(format)) {
    throw new UsageError(
      `--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(values.format)}`,
    );
  }
  const stats = format === 'queue-stats' || format === 'agent-queue-stats';
  for (const opt of ['interval', 'sla', 'short-abandon'] as const) {
    if (values[opt] !== undefined && !stats) {
      throw new UsageError(`--${opt} applies only to --format queue-stats or agent-queue-stats`);
    }
  }
  for (const opt of ['split-15', 'report-interval'] as const) {
    if (values[opt] !== undefined && format !== 'agent-performance') {
      throw new UsageError(`--${opt} applies only to --format agent-performance`);
    }
  }
  const reportInterval = values['report-interval'] ?? '30';
  if (reportInterval !== '15' && reportInterval !== '30' && reportInterval !== '60') {
    throw new UsageError(
      `--report-interval must be 15, 30 or 60, got ${JSON.stringify(reportInterval)}`,
    );
  }
  if (values['split-15'] === true && reportInterval !== '30') {
    throw new UsageError('--split-15 splits 30-minute rows: it needs --report-interval 30');
  }
  if (values.arn !== undefined && format === 'agent-performance') {
    throw new UsageError('--arn does not apply to --format agent-performance');
  }
  const interval = values.interval ?? '15';
  if (interval !== '15' && interval !== '30' && interval !== '60') {
    throw new UsageError(`--interval must be 15, 30 or 60, got ${JSON.stringify(interval)}`);
  }
  const arn = values.arn ?? 'id';
  if (arn !== 'id' && arn !== 'full') {
    throw new UsageError(`--arn must be id or full, got ${JSON.stringify(arn)}`);
  }
  const formulaEscape = values['formula-escape'] ?? 'none';
  if (formulaEscape !== 'none' && formulaEscape !== 'quote-prefix') {
    throw new UsageError(
      `--formula-escape must be none or quote-prefix, got ${JSON.stringify(formulaEscape)}`,
    );
  }
  const inputs = positionals.length === 0 ? ['-'] : positionals;
  if (inputs.filter((i) => i === '-').length > 1) {
    throw new UsageError('standard input (-) can be given only once');
  }
  if (inputs.includes('-') && process.stdin.isTTY === true) {
    throw new UsageError('no input: give FILE arguments or pipe data into standard input');
  }
  return {
    format,
    interval: Number(interval) as IntervalMinutes,
    sla: values.sla === undefined ? 20 : parseSeconds('sla', values.sla),
    shortAbandon:
      values['short-abandon'] === undefined
        ? 5
        : parseSeconds('short-abandon', values['short-abandon']),
    arn,
    split15: values['split-15'] === true,
    reportInterval: Number(reportInterval) as IntervalMinutes,
    output: values.output,
    formulaEscape,
    inputs,
  };
}
