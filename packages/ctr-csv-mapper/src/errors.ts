/**
 * Errors of @connect-wfm/ctr-csv-mapper. Every error is a {@link CtrMapperError} with a
 * string-literal `code`, so callers can branch on `err.code` or on `instanceof`.
 *
 * Malformed CTR records are NOT errors: the reader reports them as `{ kind: 'bad' }` items and
 * goes on. Errors are thrown only for invalid options, an input stream that fails, and an agent
 * performance report that cannot be mapped.
 */

/** Every code a {@link CtrMapperError} can carry. */
export type CtrMapperErrorCode =
  | 'INVALID_OPTIONS'
  | 'INPUT_FAILED'
  | 'AGENT_REPORT_HEADERS'
  | 'AGENT_REPORT_VALUE'
  | 'AGENT_REPORT_TOO_LARGE'
  | 'INVALID_SNAPSHOT';

import { type ConfigProblem, ConnectWfmError, formatConfigProblems } from '@connect-wfm/core';

/**
 * Base class of every error thrown by this package: a `ConnectWfmError` of `@connect-wfm/core`
 * (`code`, `retryable`, `cause`).
 *
 * @example
 * try {
 *   await mapAgentPerformanceReport(csvText);
 * } catch (err) {
 *   if (err instanceof CtrMapperError && err.code === 'AGENT_REPORT_HEADERS') {
 *     // the report was scheduled with the wrong metrics: fix the report, not the code
 *   }
 *   throw err;
 * }
 */
export class CtrMapperError extends ConnectWfmError<CtrMapperErrorCode> {
  constructor(
    code: CtrMapperErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(code, message, options);
    this.name = 'CtrMapperError';
  }
}

/**
 * Options passed to a function of this package are invalid (an interval that is not 15, 30 or 60,
 * a negative SLA, an unknown key...). The message and `problems` list every problem at once.
 * Not retryable.
 *
 * @example
 * new IntervalStatsAccumulator({ intervalMinutes: 20 as 15 }); // throws InvalidOptionsError
 */
export class InvalidOptionsError extends CtrMapperError {
  override readonly code = 'INVALID_OPTIONS' as const;
  /** Every problem, each with the path of the option (`intervalMinutes`; `''` for the whole object). */
  readonly problems: readonly ConfigProblem[];
  /**
   * The same problems as lines (`intervalMinutes: expected 15, 30 or 60`).
   * @deprecated Use {@link InvalidOptionsError.problems}; kept for existing callers.
   */
  readonly issues: readonly string[];

  constructor(what: string, problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(
      'INVALID_OPTIONS',
      `Invalid ${what}: ${formatConfigProblems(problems)}. Fix the options and call again.`,
      options,
    );
    this.name = 'InvalidOptionsError';
    this.problems = problems;
    this.issues = problems.map((p) => formatConfigProblems([p]));
  }
}

/**
 * The input stream itself failed (a read error of the underlying file or S3 body): `retryable`. Records read
 * before the failure have already been yielded. A corrupt GZIP stream is NOT this error: it is
 * reported as a bad record, because the records before the damage are still good.
 *
 * @example
 * for await (const item of readFirehoseRecords(s3Body, { sourceName: key })) { ... } // may throw InputFailedError
 */
export class InputFailedError extends CtrMapperError {
  override readonly code = 'INPUT_FAILED' as const;
  /** Name of the input (object key or file name) as the caller gave it. */
  readonly sourceName: string;
  /** Bytes of decompressed input read before the failure. */
  readonly offset: number;

  constructor(sourceName: string, offset: number, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      'INPUT_FAILED',
      `Reading ${sourceName} failed after ${offset} bytes${reason}. The records before that offset were delivered; retry the whole object.`,
      { ...options, retryable: true },
    );
    this.name = 'InputFailedError';
    this.sourceName = sourceName;
    this.offset = offset;
  }
}

/**
 * The agent performance report's header row does not have the columns the mapping needs.
 * `found` lists the headers of the file, `expected` the ones that are needed (with the names
 * they may have).
 *
 * @example
 * await mapAgentPerformanceReport('Name,When\nx,y\n'); // throws AgentReportHeaderError
 */
export class AgentReportHeaderError extends CtrMapperError {
  override readonly code = 'AGENT_REPORT_HEADERS' as const;
  /** The headers found in the report, as written (the first 50, each cut to 100 characters). */
  readonly found: readonly string[];
  /** The columns that are needed but missing, each with the names accepted for it. */
  readonly missing: readonly string[];
  /** Every needed column with the names accepted for it. */
  readonly expected: readonly string[];

  constructor(
    sourceName: string,
    found: readonly string[],
    missing: readonly string[],
    expected: readonly string[],
  ) {
    super(
      'AGENT_REPORT_HEADERS',
      `Agent performance report ${sourceName} cannot be mapped: missing column(s) ${missing.join(', ')}. ` +
        `Headers found: ${listHeaders(found)}. ` +
        `Expected: ${expected.join('; ')} (matched ignoring case, spaces and punctuation). ` +
        'Check the scheduled report has the Agent and Interval groupings and the Agent idle time, Non-Productive Time and Online time metrics, or deliver it unmapped (pass-through).',
    );
    this.name = 'AgentReportHeaderError';
    this.found = found.slice(0, MAX_LISTED_HEADERS).map((h) => clip(h, MAX_HEADER_CHARS));
    this.missing = missing;
    this.expected = expected;
  }
}

/** Headers listed in an error, and characters shown of each: a non-report input (say a 200 MB
 * JSON file) has one giant "header", and the message must stay readable and small. */
const MAX_LISTED_HEADERS = 50;
const MAX_HEADER_CHARS = 100;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

function listHeaders(found: readonly string[]): string {
  if (found.length === 0) return '(none)';
  const shown = found
    .slice(0, MAX_LISTED_HEADERS)
    .map((h) => JSON.stringify(clip(h, MAX_HEADER_CHARS)));
  const more = found.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/**
 * The agent performance report is larger than `maxReportBytes`: it is refused before it is
 * parsed (it is most likely not a report; a real one has one row per agent and interval).
 *
 * @example
 * await mapAgentPerformanceReport(hugeStream, { maxReportBytes: 1024 }); // throws AgentReportTooLargeError
 */
export class AgentReportTooLargeError extends CtrMapperError {
  override readonly code = 'AGENT_REPORT_TOO_LARGE' as const;
  /** The limit in bytes. */
  readonly maxReportBytes: number;

  constructor(sourceName: string, maxReportBytes: number) {
    super(
      'AGENT_REPORT_TOO_LARGE',
      `Agent performance report ${sourceName} is larger than ${maxReportBytes} bytes (maxReportBytes): reading stopped there. ` +
        'Check it is the scheduled agent performance report, or raise maxReportBytes.',
    );
    this.name = 'AgentReportTooLargeError';
    this.maxReportBytes = maxReportBytes;
  }
}

/**
 * A cell of the agent performance report cannot be read: a duration that is neither whole
 * seconds, `hh:mm:ss` nor `-`, or an interval that is not a date.
 *
 * @example
 * await mapAgentPerformanceReport('Agent,Interval,Agent idle time,Non-Productive Time,Online time\na,2026-01-01T00:00:00Z,soon,0,0\n'); // throws AgentReportValueError
 */
export class AgentReportValueError extends CtrMapperError {
  override readonly code = 'AGENT_REPORT_VALUE' as const;
  /** 1-based line number of the data row in the CSV (the header is line 1). */
  readonly line: number;
  /** The column, as named in the report. */
  readonly column: string;

  constructor(sourceName: string, line: number, column: string, value: string, expected: string) {
    super(
      'AGENT_REPORT_VALUE',
      `Agent performance report ${sourceName}, line ${line}, column ${JSON.stringify(column)}: ` +
        `${JSON.stringify(value.slice(0, 60))} is not ${expected}. Fix the report or deliver it unmapped (pass-through).`,
    );
    this.name = 'AgentReportValueError';
    this.line = line;
    this.column = column;
  }
}

/**
 * A serialized statistics snapshot given to `IntervalStatsAccumulator.fromSnapshot` is not one
 * this package wrote (or was written with different settings).
 *
 * @example
 * IntervalStatsAccumulator.fromSnapshot({ version: 99 }); // throws InvalidSnapshotError
 */
export class InvalidSnapshotError extends CtrMapperError {
  override readonly code = 'INVALID_SNAPSHOT' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super(
      'INVALID_SNAPSHOT',
      `${message}. Recompute the partial statistics from the objects.`,
      options,
    );
    this.name = 'InvalidSnapshotError';
  }
}
