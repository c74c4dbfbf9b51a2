import { Readable } from 'node:stream';
import { checkOptions, csvOptionsSchema, readOptionsSchema } from './options.js';
import { scanFirehose } from './reader.js';
import type { ScanSink } from './scanner.js';
import type {
  ArnMode,
  ByteSource,
  CtrCsvOptions,
  CtrRecord,
  FirehoseItem,
  ReadFirehoseOptions,
} from './types.js';

/**
 * RFC 4180 field writing and the raw CTR CSV (data-mapping §2).
 *
 * Rows are written with a small quoter rather than papaparse's `unparse`: `unparse` takes a whole
 * array of rows and re-inspects its configuration per call, and the CSV path must stream one row
 * at a time at close to `JSON.parse` speed (see the README for the measurements). papaparse is
 * used where it fits: parsing the agent performance report, and parsing our output in the tests.
 */

/** The 16 columns of the raw CTR CSV, in order (data-mapping §2). */
export const CTR_CSV_COLUMNS = [
  'Agent_ARN',
  'Agent_AfterContactWorkDuration',
  'Agent_AgentInteractionDuration',
  'Agent_CustomerHoldDuration',
  'Agent_Username',
  'Channel',
  'ContactID',
  'InitiationMethod',
  'InitiationTimestamp',
  'Queue_ARN',
  'Queue_Duration',
  'Queue_EnqueueTimestamp',
  'Queue_Name',
  'SystemEndpoint_Address',
  'TransferCompletedTimestamp',
  'TransferredToEndpoint',
] as const;

/** The header line of the raw CTR CSV, without the line ending. */
export const CTR_CSV_HEADER: string = CTR_CSV_COLUMNS.join(',');

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE_ALL = /"/g;

/**
 * Writes one CSV field per RFC 4180: a value containing `,`, `"`, CR or LF is quoted with inner
 * quotes doubled; `null`/`undefined` is an empty field; numbers are written in JavaScript's
 * shortest round-trip form (the JSON text for integers).
 *
 * @example
 * csvField('a,"b"'); // '"a,""b"""'
 * csvField(null); // ''
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  return NEEDS_QUOTES.test(value) ? `"${value.replace(QUOTE_ALL, '""')}"` : value;
}

/**
 * Writes one CSV line (fields joined by `,`, ending in `\n`).
 *
 * @example
 * csvLine(['a', 1, null]); // 'a,1,\n'
 */
export function csvLine(
  values: ReadonlyArray<string | number | boolean | null | undefined>,
): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += ',';
    line += csvField(values[i]);
  }
  return `${line}\n`;
}

/**
 * The id in an ARN: its last path segment
 * (`arn:aws:connect:…:instance/…/queue/9a9a…` → `9a9a…`). A value without `/` is returned as is.
 *
 * @example
 * arnId('arn:aws:connect:eu-west-2:111122223333:instance/abc/agent/a1'); // 'a1'
 */
export function arnId(arn: string): string {
  const slash = arn.lastIndexOf('/');
  return slash < 0 ? arn : arn.slice(slash + 1);
}

function arnValue(arn: string | null | undefined, mode: ArnMode): string | null | undefined {
  if (arn === null || arn === undefined) return arn;
  return mode === 'full' ? arn : arnId(arn);
}

function str(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  return NEEDS_QUOTES.test(v) ? `"${v.replace(QUOTE_ALL, '""')}"` : v;
}

function num(v: number | null | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

/**
 * Formats one CTR as a raw CSV row (data-mapping §2), with the trailing `\n`.
 *
 * @example
 * ctrCsvRow({ ContactId: 'c1', Channel: 'VOICE', Agent: null });
 * // ',,,,,VOICE,c1,,,,,,,,,\n'
 */
export function ctrCsvRow(record: CtrRecord, options: { arn?: ArnMode | undefined } = {}): string {
  return csvRowFor(record, options.arn ?? 'id');
}

function csvRowFor(record: CtrRecord, mode: ArnMode): string {
  const a = record.Agent;
  const q = record.Queue;
  return (
    (a
      ? `${str(arnValue(a.ARN, mode))},${num(a.AfterContactWorkDuration)},${num(a.AgentInteractionDuration)},${num(a.CustomerHoldDuration)},${str(a.Username)},`
      : ',,,,,') +
    `${str(record.Channel)},${str(record.ContactId)},${str(record.InitiationMethod)},${str(record.InitiationTimestamp)},` +
    (q
      ? `${str(arnValue(q.ARN, mode))},${num(q.Duration)},${str(q.EnqueueTimestamp)},${str(q.Name)},`
      : ',,,,') +
    `${str(record.SystemEndpoint?.Address)},${str(record.TransferCompletedTimestamp)},${str(record.TransferredToEndpoint?.Address)}\n`
  );
}

/** Items (or batches of items) as produced by the reader. */
export type FirehoseItemSource =
  | AsyncIterable<FirehoseItem | readonly FirehoseItem[]>
  | Iterable<FirehoseItem | readonly FirehoseItem[]>;

/**
 * Turns reader items into the raw CTR CSV as a byte stream: header, then one row per record in
 * input order. Bad items produce no row (they go to `onBadRecord`). The returned `Readable`
 * pulls its input only as fast as it is read (backpressure); rows are encoded to UTF-8 whole,
 * so multi-byte characters are never split.
 *
 * @example
 * import { createReadStream, createWriteStream } from 'node:fs';
 * import { pipeline } from 'node:stream/promises';
 * const items = readFirehoseBatches(createReadStream('ctr.json'), { sourceName: 'ctr.json' });
 * await pipeline(ctrCsvStream(items), createWriteStream('ctr.json.csv'));
 */
export function ctrCsvStream(items: FirehoseItemSource, options: CtrCsvOptions = {}): Readable {
  checkOptions('CSV options', csvOptionsSchema, options);
  const mode = options.arn ?? 'id';
  const chunkBytes = options.chunkBytes ?? 65536;
  const onBad = options.onBadRecord;
  async function* generate(): AsyncGenerator<Buffer, void, undefined> {
    let pending = options.header === false ? '' : `${CTR_CSV_HEADER}\n`;
    const out = new ChunkJoiner(chunkBytes);
    for await (const entry of items as AsyncIterable<FirehoseItem | readonly FirehoseItem[]>) {
      if (isBatch(entry)) {
        for (const item of entry) {
          if (item.kind === 'record') pending += csvRowFor(item.record, mode);
          else onBad?.(item);
        }
      } else if (entry.kind === 'record') {
        pending += csvRowFor(entry.record, mode);
      } else {
        onBad?.(entry);
      }
      if (pending.length > 0) {
        const ready = out.add(pending);
        pending = '';
        if (ready !== undefined) yield ready;
      }
    }
    const last = out.flush(pending);
    if (last !== undefined) yield last;
  }
  return Readable.from(generate(), { objectMode: false });
}

/**
 * Encodes rows to UTF-8 as soon as they are written (whole rows, so no character is split) and
 * joins the Buffers into output chunks of about `limit` bytes. Encoding early keeps the rows out
 * of the JS heap: fewer objects survive a garbage collection, and the heap stays smaller.
 */
class ChunkJoiner {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  /** Adds text; returns a chunk when `limit` bytes are ready. */
  add(text: string): Buffer | undefined {
    const buf = Buffer.from(text, 'utf8');
    this.parts.push(buf);
    this.size += buf.length;
    if (this.size < this.limit) return undefined;
    return this.take();
  }

  /** Adds the last text and returns whatever is left. */
  flush(text: string): Buffer | undefined {
    if (text.length > 0) {
      const buf = Buffer.from(text, 'utf8');
      this.parts.push(buf);
      this.size += buf.length;
    }
    return this.size > 0 ? this.take() : undefined;
  }

  private take(): Buffer {
    const out =
      this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return out;
  }
}

function isBatch(entry: FirehoseItem | readonly FirehoseItem[]): entry is readonly FirehoseItem[] {
  return Array.isArray(entry);
}

/**
 * Reads a Firehose object and returns its raw CTR CSV as a byte stream (header, then one row per
 * record in input order). Equivalent to `ctrCsvStream(readFirehoseBatches(source))` but fused:
 * rows are written as records are found, without intermediate items, which is the fastest path.
 * Bad records go to `onBadRecord` (and the logger); they produce no row.
 *
 * @example
 * import { createReadStream, createWriteStream } from 'node:fs';
 * import { pipeline } from 'node:stream/promises';
 * const bad: FirehoseBadItem[] = [];
 * await pipeline(
 *   firehoseObjectToCsv(createReadStream('ctr.json'), { sourceName: 'ctr.json', onBadRecord: (b) => bad.push(b) }),
 *   createWriteStream(csvFileNameFor('2026/11/24/08/ctr-1-2026-11-24-08-00-00-abc')),
 * );
 */
export function firehoseObjectToCsv(
  source: ByteSource,
  options: ReadFirehoseOptions & Omit<CtrCsvOptions, 'onBadRecord'> = {},
): Readable {
  const { arn, header, chunkBytes, ...readOptions } = options;
  checkOptions('CSV options', csvOptionsSchema, { arn, header, chunkBytes });
  checkOptions('reader options', readOptionsSchema, readOptions);
  const mode = arn ?? 'id';
  const limit = chunkBytes ?? 65536;
  async function* generate(): AsyncGenerator<Buffer, void, undefined> {
    let pending = header === false ? '' : `${CTR_CSV_HEADER}\n`;
    const sink: ScanSink = {
      record: (record) => {
        pending += csvRowFor(record, mode);
      },
      bad: () => {},
    };
    const out = new ChunkJoiner(limit);
    for await (const _ of scanFirehose(source, readOptions, sink)) {
      if (pending.length === 0) continue;
      const ready = out.add(pending);
      pending = '';
      if (ready !== undefined) yield ready;
    }
    const last = out.flush(pending);
    if (last !== undefined) yield last;
  }
  return Readable.from(generate(), { objectMode: false });
}

/**
 * The CSV file name for an S3 object key (data-mapping §2): the key's base name with every `:`
 * replaced by `_` and `.csv` appended. The key is used as given (decode S3 event keys first).
 *
 * @example
 * csvFileNameFor('connect/2026/11/24/08/ctr-1-2026-11-24-08:15:00-abc'); // 'ctr-1-2026-11-24-08_15_00-abc.csv'
 */
export function csvFileNameFor(objectKey: string): string {
  const base = objectKey.slice(objectKey.lastIndexOf('/') + 1);
  return `${base.replaceAll(':', '_')}.csv`;
}
