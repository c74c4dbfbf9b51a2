#!/usr/bin/env node
/**
 * `ctr-csv`: the command-line front end of @connect-wfm/ctr-csv-mapper.
 *
 * Exit codes: 0 every record converted; 2 some records were bad (the good ones are still
 * written, stderr lists the bad ones); 1 usage or I/O error.
 */
import {
  accessSync,
  constants,
  createReadStream,
  createWriteStream,
  fstatSync,
  type Stats,
  statSync,
  unlinkSync,
  type WriteStream,
} from 'node:fs';
import { readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { mapAgentPerformanceReport } from './agent-performance.js';
import { firehoseObjectToCsv } from './csv.js';
import { CtrMapperError, InputFailedError } from './errors.js';
import { readFirehoseBatches } from './reader.js';
import { IntervalStatsAccumulator } from './stats.js';
import type {
  ArnMode,
  ByteSource,
  FirehoseBadItem,
  IntervalMinutes,
  ReadProgress,
} from './types.js';

const HELP = `Usage: ctr-csv [options] [FILE ... | -]

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
  -h, --help               Show this help

Every input FILE is checked before anything is written: a missing, unreadable or directory
input is an error (exit 1) with no output.

Exit status:
  0  every record was converted
  2  some records were bad: the good ones are still written, and standard error gives the
     count of good and bad records and lists each bad record with its file, byte offset (in the
     decompressed input), reason and first bytes
  1  usage error, unreadable input, unwritable output (a full disk included), or an agent
     performance report that cannot be mapped

When standard error is a terminal and the input is large (over 16 MB) or several files, progress
(files, MB, records/s) is shown on standard error. Standard output only ever carries CSV.

Examples:
  ctr-csv ctr-2026-11-24-08.json > ctr.csv
  ctr-csv --format queue-stats --interval 30 --sla 15 objects/*.json.gz -o queue.csv
  ctr-csv --format agent-performance --split-15 TeleoptiAgentPerformance.csv
`;

const FORMATS = ['ctr', 'queue-stats', 'agent-queue-stats', 'agent-performance'] as const;
type Format = (typeof FORMATS)[number];

class UsageError extends Error {}

interface Settings {
  readonly format: Format;
  readonly interval: IntervalMinutes;
  readonly sla: number;
  readonly shortAbandon: number;
  readonly arn: ArnMode;
  readonly split15: boolean;
  readonly reportInterval: IntervalMinutes;
  readonly output: string | undefined;
  readonly inputs: readonly string[];
}

function parseSeconds(name: string, value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new UsageError(`--${name} must be a number of seconds ≥ 0, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function parseSettings(argv: string[]): Settings | 'help' {
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
    inputs,
  };
}

/** Input size from which progress is shown (on a terminal). */
const LARGE_INPUT_BYTES = 16 * 1024 * 1024;

/** Progress on stderr, only when it is a terminal and the input is large or several files. */
class Progress {
  private enabled: boolean;
  /** Standard input is read and its size is unknown: progress starts once it proves large. */
  private readonly watchStdin: boolean;
  private readonly started = Date.now();
  private lastDraw = 0;
  private file = 0;
  private doneBytes = 0;
  private doneRecords = 0;
  private current: ReadProgress | undefined;
  private drawn = false;

  constructor(private readonly inputs: readonly string[]) {
    let total = 0;
    for (const f of inputs) {
      if (f === '-') continue;
      try {
        total += statSync(f).size;
      } catch {
        // reported when the file is opened
      }
    }
    const tty = process.stderr.isTTY === true;
    this.enabled = tty && (inputs.length > 1 || total > LARGE_INPUT_BYTES);
    this.watchStdin = tty && !this.enabled && inputs.includes('-');
  }

  /** Good records read so far, over all inputs. */
  get records(): number {
    return this.doneRecords + (this.current?.records ?? 0);
  }

  startFile(index: number): void {
    if (this.current !== undefined) {
      this.doneBytes += this.current.rawBytes;
      this.doneRecords += this.current.records;
      this.current = undefined;
    }
    this.file = index;
  }

  update = (p: ReadProgress): void => {
    this.current = p;
    if (!this.enabled) {
      if (!this.watchStdin || this.doneBytes + p.rawBytes <= LARGE_INPUT_BYTES) return;
      this.enabled = true;
    }
    const now = Date.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const mb = (this.doneBytes + p.rawBytes) / 1e6;
    const records = this.doneRecords + p.records;
    process.stderr.write(
      `\rctr-csv: file ${this.file + 1}/${this.inputs.length}, ${mb.toFixed(1)} MB, ${Math.round(records / secs)} records/s   `,
    );
    this.drawn = true;
  };

  finish(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
  }
}

/**
 * Read size for input files. Each read is a round trip through libuv's thread pool; with Node's
 * default 64 KiB that overhead was about a fifth of a 110 MB conversion on a small VM, and 1 MiB
 * reads cut it fourfold or more. Memory stays bounded: at most a few such chunks are held.
 */
const FILE_READ_BYTES = 1024 * 1024;

function openInput(name: string): { source: ByteSource; sourceName: string } {
  if (name === '-') return { source: process.stdin, sourceName: '(stdin)' };
  return { source: createReadStream(name, { highWaterMark: FILE_READ_BYTES }), sourceName: name };
}

async function writeText(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        out.off('error', onError);
        resolve();
      };
      const onError = (err: Error): void => {
        out.off('drain', onDrain);
        reject(err);
      };
      out.once('drain', onDrain);
      out.once('error', onError);
    });
  }
}

/** What a run has seen so far (also read when the output pipe closes early). */
interface RunState {
  readonly bad: FirehoseBadItem[];
  readonly progress: Progress;
}

async function run(settings: Settings, out: Writable, state: RunState): Promise<void> {
  const { bad, progress } = state;
  const onBadRecord = (b: FirehoseBadItem): void => {
    bad.push(b);
  };
  try {
    if (settings.format === 'ctr') {
      for (let i = 0; i < settings.inputs.length; i++) {
        progress.startFile(i);
        const { source, sourceName } = openInput(settings.inputs[i] as string);
        const csv = firehoseObjectToCsv(source, {
          sourceName,
          header: i === 0,
          arn: settings.arn,
          onBadRecord,
          onProgress: progress.update,
        });
        await pipeline(csv, out, { end: false });
      }
    } else if (settings.format === 'agent-performance') {
      for (let i = 0; i < settings.inputs.length; i++) {
        progress.startFile(i);
        const name = settings.inputs[i] as string;
        const text =
          name === '-' ? await collect(process.stdin) : await readFile(name, { encoding: 'utf8' });
        const { csv } = await mapAgentPerformanceReport(text, {
          split15: settings.split15,
          reportIntervalMinutes: settings.reportInterval,
          sourceName: name === '-' ? '(stdin)' : name,
        });
        await writeText(out, i === 0 ? csv : csv.slice(csv.indexOf('\n') + 1));
      }
    } else {
      const acc = new IntervalStatsAccumulator({
        intervalMinutes: settings.interval,
        slaSeconds: settings.sla,
        shortAbandonSeconds: settings.shortAbandon,
        arn: settings.arn,
      });
      for (let i = 0; i < settings.inputs.length; i++) {
        progress.startFile(i);
        const { source, sourceName } = openInput(settings.inputs[i] as string);
        for await (const batch of readFirehoseBatches(source, {
          sourceName,
          onBadRecord,
          onProgress: progress.update,
        })) {
          acc.addItems(batch);
        }
      }
      await writeText(out, acc.toCsv(settings.format === 'queue-stats' ? 'queue' : 'agent-queue'));
    }
  } finally {
    progress.finish();
  }
}

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) {
    parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(parts).toString('utf8');
}

function describe(err: unknown): string {
  if (err instanceof InputFailedError && err.cause instanceof Error) {
    const cause = err.cause as NodeJS.ErrnoException;
    if (cause.code !== undefined && cause.path !== undefined) return describe(cause);
    return `reading ${err.sourceName} failed after ${err.offset} bytes: ${cause.message}`;
  }
  if (err instanceof CtrMapperError) return err.message;
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== undefined && e.path !== undefined) {
      return `cannot ${e.syscall ?? 'access'} ${JSON.stringify(e.path)}: ${e.code} (${e.message.replace(/^[A-Z]+: /, '')})`;
    }
    return err.message;
  }
  return String(err);
}

function report(good: number, bad: readonly FirehoseBadItem[]): void {
  const lines = [
    `ctr-csv: ${good} good record(s) converted, ${bad.length} bad record(s) left out:`,
  ];
  for (const b of bad) {
    lines.push(
      `  ${b.sourceName}: byte ${b.offset} (${b.length} bytes): ${b.reason}: ${b.detail}; starts with ${JSON.stringify(b.preview)}`,
    );
  }
  process.stderr.write(`${lines.join('\n')}\n`);
}

async function main(argv: string[]): Promise<number> {
  let settings: Settings | 'help';
  try {
    settings = parseSettings(argv);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ctr-csv: ${msg}\nTry 'ctr-csv --help' for the options.\n`);
    return 1;
  }
  if (settings === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const state: RunState = { bad: [], progress: new Progress(settings.inputs) };
  let output: Output | undefined;
  try {
    checkInputs(settings.inputs);
    if (settings.output !== undefined) output = await openOutput(settings.output, settings.inputs);
  } catch (err) {
    process.stderr.write(`ctr-csv: ${describe(err)}\n`);
    return 1;
  }
  const out: Writable = output?.stream ?? process.stdout;
  if (output === undefined) {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      // A closed pipe (`ctr-csv big.json | head`) ends the run quietly, with the exit code of
      // what was read so far.
      if (err.code !== 'EPIPE') return;
      if (state.bad.length > 0) report(state.progress.records, state.bad);
      process.exit(state.bad.length > 0 ? 2 : 0);
    });
  }
  try {
    await run(settings, out, state);
    await output?.commit();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // A failed write (a full disk, say) names no file: it is the output's.
    if (e.syscall === 'write' && e.path === undefined) e.path = settings.output ?? '(stdout)';
    process.stderr.write(`ctr-csv: ${describe(err)}\n`);
    await output?.abort();
    return 1;
  }
  if (state.bad.length > 0) {
    report(state.progress.records, state.bad);
    return 2;
  }
  return 0;
}

/**
 * Checks every input before anything is written, so that a missing, unreadable or directory
 * input costs no partial output. Throws the file system's error (named by `describe`).
 */
function checkInputs(inputs: readonly string[]): void {
  for (const name of inputs) {
    const st = name === '-' ? fstatSync(0) : statSync(name);
    if (st.isDirectory()) {
      throw new UsageError(
        `${name === '-' ? 'standard input' : JSON.stringify(name)} is a directory, not a file`,
      );
    }
    if (name !== '-') accessSync(name, constants.R_OK);
  }
}

/** Where the output goes, and how the run ends it. */
interface Output {
  readonly stream: Writable;
  /** Flushes and closes the output (a write error, such as a full disk, rejects), then publishes it. */
  commit(): Promise<void>;
  /** Discards the output after a failure. */
  abort(): Promise<void>;
}

/** Temporary output files to remove if the process is interrupted. */
const pendingFiles = new Set<string>();
let signalsHooked = false;

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      for (const f of pendingFiles) {
        try {
          unlinkSync(f);
        } catch {
          // already gone
        }
      }
      process.exit(code);
    });
  }
}

function opened(stream: WriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
}

async function closeStream(stream: Writable): Promise<void> {
  stream.end();
  await finished(stream);
}

/**
 * Opens `-o FILE`. A regular file (or a new one) is written beside the target under a temporary
 * name and renamed over it only by {@link Output.commit}: readers of FILE never see a partial
 * file, and a failed run leaves FILE as it was. A device or a pipe (`/dev/stdout`, a FIFO) is
 * written in place. FILE must not be one of the inputs (it would be replaced by its own CSV).
 */
async function openOutput(path: string, inputs: readonly string[]): Promise<Output> {
  let existing: Stats | undefined;
  try {
    existing = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (existing?.isDirectory() === true) {
    throw new UsageError(`-o ${JSON.stringify(path)} is a directory, not a file`);
  }
  if (existing !== undefined) {
    for (const name of inputs) {
      if (name === '-') continue;
      const st = statSync(name);
      if (st.dev === existing.dev && st.ino === existing.ino) {
        throw new UsageError(
          `the output file ${JSON.stringify(path)} is also an input: write to another file`,
        );
      }
    }
  }
  if (existing !== undefined && !existing.isFile()) {
    const stream = createWriteStream(path);
    await opened(stream);
    return {
      stream,
      commit: () => closeStream(stream),
      abort: async () => {
        stream.destroy();
      },
    };
  }
  // Through a symbolic link, the file it points to is replaced, not the link.
  const target = existing === undefined ? path : await realpath(path);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  // Registered before the file exists: an interrupt right after it is created still removes it.
  pendingFiles.add(temp);
  hookSignals();
  const stream = createWriteStream(temp, {
    flags: 'wx',
    mode: existing === undefined ? 0o666 : existing.mode & 0o777,
  });
  try {
    await opened(stream);
  } catch (err) {
    pendingFiles.delete(temp); // not created by this run (it may exist from another)
    throw err;
  }
  return {
    stream,
    commit: async () => {
      await closeStream(stream);
      await rename(temp, target);
      pendingFiles.delete(temp);
    },
    abort: async () => {
      stream.destroy();
      await unlink(temp).catch(() => {});
      pendingFiles.delete(temp);
    },
  };
}

process.exitCode = await main(process.argv.slice(2));
