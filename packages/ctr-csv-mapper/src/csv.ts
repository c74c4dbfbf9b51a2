import { Readable } from 'node:stream';
import { CTR_CSV_HEADER, ctrCsvRow } from './ctr-columns.js';
import { CsvRowWriter } from './ctr-row-writer.js';
import { checkOptions, csvOptionsSchema, readOptionsSchema } from './options.js';
import { FirehoseInput } from './reader.js';
import type {
  ArnMode,
  ByteSource,
  CtrCsvOptions,
  CtrRecord,
  FirehoseItem,
  FormulaEscape,
  ReadFirehoseOptions,
} from './types.js';

/**
 * The raw CTR CSV as a byte stream (docs/historical-formats.md#raw-ctr-csv): from reader items
 * ({@link ctrCsvStream}) or fused with the reader ({@link firehoseObjectToCsv}).
 */

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
  const rowOptions = { arn: options.arn ?? 'id', formulaEscape: options.formulaEscape ?? 'none' };
  const chunkBytes = options.chunkBytes ?? 65536;
  const onBad = options.onBadRecord;
  async function* generate(): AsyncGenerator<Buffer, void, undefined> {
    let pending = options.header === false ? '' : `${CTR_CSV_HEADER}\n`;
    const out = new ChunkJoiner(chunkBytes);
    for await (const entry of items as AsyncIterable<FirehoseItem | readonly FirehoseItem[]>) {
      if (isBatch(entry)) {
        for (const item of entry) {
          if (item.kind === 'record') pending += ctrCsvRow(item.record, rowOptions);
          else onBad?.(item);
        }
      } else if (entry.kind === 'record') {
        pending += ctrCsvRow(entry.record, rowOptions);
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

/** Most parsed records held before their rows are written (bounds memory for huge input chunks). */
const ROW_BATCH = 256;

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
  const { arn, header, chunkBytes, formulaEscape, ...readOptions } = options;
  checkOptions('CSV options', csvOptionsSchema, { arn, header, chunkBytes, formulaEscape });
  checkOptions('reader options', readOptionsSchema, readOptions);
  return new CsvFromFirehose(
    source,
    readOptions,
    arn ?? 'id',
    header !== false,
    chunkBytes ?? 65536,
    formulaEscape ?? 'none',
  );
}

/**
 * The stream {@link firehoseObjectToCsv} returns. Its `_read` drives the input one chunk at a
 * time and pushes the rows of the records that chunk completed, until the consumer has enough
 * (backpressure) or the input ends. No async generator sits between the source and the rows:
 * each such layer cost a few microseconds per input chunk, about 4 % of the whole conversion.
 */
class CsvFromFirehose extends Readable {
  private readonly input: FirehoseInput;
  private readonly writer: CsvRowWriter;
  private readonly batch: CtrRecord[] = [];
  private readonly batchBytes: boolean[] = [];
  private pumping = false;

  constructor(
    source: ByteSource,
    readOptions: ReadFirehoseOptions,
    private readonly mode: ArnMode,
    header: boolean,
    limit: number,
    private readonly formulaEscape: FormulaEscape,
  ) {
    // Hold at most about one output chunk ahead of the consumer.
    super({ highWaterMark: limit });
    this.writer = new CsvRowWriter(limit);
    if (header) this.writer.header();
    const batch = this.batch;
    const batchBytes = this.batchBytes;
    this.input = new FirehoseInput(
      source,
      readOptions,
      {
        record: (record, _raw, _offset, _length, bytes) => {
          batch.push(record);
          batchBytes.push(bytes);
          if (batch.length >= ROW_BATCH) this.writeBatch();
        },
        bad: () => {},
      },
      true,
    );
  }

  override _read(): void {
    if (this.pumping) return;
    this.pumping = true;
    this.pump().catch((err: unknown) => this.destroy(err as Error));
  }

  /**
   * Errors the stream, but only once the consumer has read the rows already pushed: `destroy`
   * discards buffered chunks, and the rows of the records before a source failure are promised
   * to be delivered. A Readable has no event for "buffer drained", hence the short poll.
   */
  private fail(err: Error): void {
    if (this.destroyed) return;
    if (this.readableLength === 0) {
      this.destroy(err);
      return;
    }
    setTimeout(() => this.fail(err), 2);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.input.close().then(
      () => callback(err),
      () => callback(err),
    );
  }

  /**
   * Rows are written after each input chunk, for the records it completed (at most ROW_BATCH at
   * a time): parsing a run of records and then writing a run of rows keeps each loop's code and
   * data hot, which measured about a fifth less overhead than alternating.
   */
  private writeBatch(): void {
    const batch = this.batch;
    const batchBytes = this.batchBytes;
    if (this.formulaEscape === 'none') {
      for (let i = 0; i < batch.length; i++) {
        this.writer.row(batch[i] as CtrRecord, this.mode, batchBytes[i] as boolean);
      }
    } else {
      // Not the hot path: formula escaping goes through the generic writer.
      const options = { arn: this.mode, formulaEscape: this.formulaEscape };
      for (let i = 0; i < batch.length; i++) {
        this.writer.line(ctrCsvRow(batch[i] as CtrRecord, options), batchBytes[i] as boolean);
      }
    }
    batch.length = 0;
    batchBytes.length = 0;
  }

  /** Pushes every finished output Buffer; false when the consumer has enough for now. */
  private pushReady(): boolean {
    let wanted = true;
    for (let ready = this.writer.take(); ready !== undefined; ready = this.writer.take()) {
      wanted = this.push(ready);
    }
    return wanted;
  }

  private async pump(): Promise<void> {
    for (;;) {
      let more: boolean;
      try {
        more = await this.input.step();
      } catch (err) {
        // The rows of every record before the failure go out first, then the error.
        if (this.destroyed) return;
        this.writeBatch();
        this.writer.end();
        this.pushReady();
        this.fail(err as Error);
        return;
      }
      if (this.destroyed) return;
      this.writeBatch();
      if (!more) this.writer.end();
      const wanted = this.pushReady();
      if (!more) {
        this.push(null);
        return;
      }
      if (!wanted) {
        this.pumping = false;
        return;
      }
    }
  }
}
