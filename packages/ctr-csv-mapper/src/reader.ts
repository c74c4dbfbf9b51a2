import { Readable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { InputFailedError, InvalidOptionsError } from './errors.js';
import { checkOptions, readOptionsSchema } from './options.js';
import { DEFAULT_MAX_BAD_BYTES, FirehoseScanner, type ScanSink } from './scanner.js';
import type { ByteSource, FirehoseItem, ReadFirehoseOptions } from './types.js';

/** Default bound on one record's size (Firehose records are at most 1000 KiB). */
export const DEFAULT_MAX_RECORD_BYTES = 2 * 1024 * 1024;

/** A failure of the caller's source, told apart from a decompression failure. */
class SourceFailure extends Error {}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`expected Buffer or Uint8Array chunks, got ${typeof chunk}`);
}

function iterate(source: ByteSource): AsyncIterator<unknown> | Iterator<unknown> {
  const s = source as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  const asyncIt = s[Symbol.asyncIterator];
  if (typeof asyncIt === 'function') return asyncIt.call(source);
  const syncIt = s[Symbol.iterator];
  if (typeof syncIt === 'function') return syncIt.call(source);
  throw new InvalidOptionsError('source', [
    { path: '', message: 'expected a Readable, an AsyncIterable or an Iterable of Buffers' },
  ]);
}

/**
 * The source as raw Buffers, one `await` per chunk, counting bytes. Source errors are wrapped in
 * SourceFailure. A plain class rather than an async generator: each generator layer between the
 * source and the scanner costs a few microseconds per chunk.
 */
class RawReader {
  private readonly it: AsyncIterator<unknown> | Iterator<unknown>;
  /** The source reported its end (nothing to close). */
  private ended = false;
  /** A `next()` on the source is in progress. */
  private pending = false;
  /** Raw bytes read so far. */
  bytes = 0;

  constructor(private readonly source: ByteSource) {
    this.it = iterate(source);
  }

  /** Asks the source for its next chunk: the source's own promise (or step, when synchronous). */
  request(): Promise<IteratorResult<unknown>> | IteratorResult<unknown> {
    this.pending = true;
    return this.it.next();
  }

  /** Takes what {@link request} gave: the chunk (possibly empty), or undefined at the end. */
  take(step: IteratorResult<unknown>): Buffer | undefined {
    this.pending = false;
    if (step.done === true) {
      this.ended = true;
      return undefined;
    }
    const buf = toBuffer(step.value);
    this.bytes += buf.length;
    return buf;
  }

  /** What {@link request} gave was a rejection: the source failed. */
  failure(err: unknown): SourceFailure {
    this.pending = false;
    return new SourceFailure('source failed', { cause: err });
  }

  /** The next non-empty chunk, or undefined at the end of the source. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await this.request();
      } catch (err) {
        throw this.failure(err);
      }
      const buf = this.take(step);
      if (buf === undefined || buf.length > 0) return buf;
    }
  }

  /**
   * Closes a source that was not read to its end: a Readable is destroyed (as its own iterator's
   * `return()` would do), any other iterator gets `return()`. That is not awaited while a read is
   * still in progress: an async generator would only run it after that read, which may never end.
   */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.source instanceof Readable) {
      this.source.destroy();
      return;
    }
    if (typeof this.it.return !== 'function') return;
    try {
      const closing = Promise.resolve(this.it.return());
      if (this.pending) closing.catch(() => {});
      else await closing;
    } catch {
      // closing an abandoned source must not hide the original outcome
    }
  }
}

/** States of {@link FirehoseInput}. */
const START = 0;
const PLAIN = 1;
const GZIP = 2;
const FAILED = 3;
const DONE = 4;

/**
 * Internal engine shared by the reader and the fused CSV path: reads `source`, decompresses it
 * when it is GZIP (detected from the first two bytes), and feeds the scanner, one input chunk per
 * {@link FirehoseInput.step}; the caller flushes what its sink collected after each step. Bad
 * items also go to `onBadRecord` and the logger. `byteStrings` is the scanner option of that name
 * (for sinks that write bytes back out).
 *
 * A step-wise object rather than an async generator so that the CSV path can drive it from its
 * output stream's `_read` with no generator layers in between.
 */
export class FirehoseInput {
  private readonly sourceName: string;
  private readonly scanner: FirehoseScanner;
  private readonly reporting: ScanSink;
  private readonly raw: RawReader;
  private readonly options: ReadFirehoseOptions;
  private state = START;
  /** Thrown by the step after the one that delivered the records before a source failure. */
  private failure: Error | undefined;
  private gzipInput: Readable | undefined;
  private gunzip: Gunzip | undefined;
  private gzipChunks: AsyncIterator<unknown> | undefined;
  /** The source failed while its bytes were being decompressed. */
  private sourceFailure: SourceFailure | undefined;

  constructor(
    source: ByteSource,
    options: ReadFirehoseOptions,
    sink: ScanSink,
    byteStrings = false,
  ) {
    checkOptions('reader options', readOptionsSchema, options);
    this.options = options;
    const sourceName = options.sourceName ?? '(input)';
    this.sourceName = sourceName;
    this.scanner = new FirehoseScanner({
      sourceName,
      maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
      maxBadBytes: options.maxBadBytes ?? DEFAULT_MAX_BAD_BYTES,
      byteStrings,
    });
    const onBad = options.onBadRecord;
    const logger = options.logger;
    this.reporting =
      onBad === undefined && logger === undefined
        ? sink
        : {
            record: sink.record,
            bad: (item) => {
              onBad?.(item);
              logger?.warn('bad record in Firehose object', {
                sourceName,
                offset: item.offset,
                length: item.length,
                reason: item.reason,
                detail: item.detail,
              });
              sink.bad(item);
            },
          };
    this.raw = new RawReader(source);
  }

  /**
   * Reads and scans the next input chunk. Returns true when the sink may have new items (flush
   * them, then call again), false once the input is finished and everything was delivered.
   *
   * @throws {@link InputFailedError} when the source failed: the step before delivered every
   *   record complete before the failure.
   */
  step(): Promise<boolean> {
    // Not an async function itself: it hands back the promise of the step it runs, which saves
    // a promise and its ticks per input chunk.
    switch (this.state) {
      case PLAIN:
        return this.stepPlain();
      case START:
        return this.start();
      case GZIP:
        return this.stepGzip();
      case FAILED:
        this.state = DONE;
        return Promise.reject(this.failure);
      default:
        return Promise.resolve(false);
    }
  }

  /** Stops early: closes the decompressor and the source (when it was not read to its end). */
  async close(): Promise<void> {
    this.state = DONE;
    this.closeGzip();
    await this.raw.close();
  }

  private progress(): void {
    this.options.onProgress?.({
      rawBytes: this.raw.bytes,
      bytes: this.scanner.bytesSeen,
      records: this.scanner.records,
      badRecords: this.scanner.badRecords,
    });
  }

  /** Reads up to the first two bytes (they may arrive in separate chunks) and picks the mode. */
  private async start(): Promise<boolean> {
    const head: Buffer[] = [];
    let headLen = 0;
    let ended = false;
    try {
      while (headLen < 2) {
        const chunk = await this.raw.next();
        if (chunk === undefined) {
          ended = true;
          break;
        }
        head.push(chunk);
        headLen += chunk.length;
      }
    } catch (err) {
      this.state = DONE;
      throw new InputFailedError(this.sourceName, 0, { cause: unwrap(err) });
    }
    const first = head.length === 1 ? (head[0] as Buffer) : Buffer.concat(head);
    const mode = this.options.compression ?? 'auto';
    const gzip =
      mode === 'gzip' ||
      (mode === 'auto' && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b);
    this.options.logger?.debug('reading Firehose object', { sourceName: this.sourceName, gzip });
    if (gzip) {
      this.startGzip(first, ended);
      return this.stepGzip();
    }
    if (first.length > 0) this.scanner.push(first, this.reporting);
    if (ended) {
      this.scanner.end(this.reporting);
      this.state = DONE;
    } else {
      this.state = PLAIN;
    }
    this.progress();
    return true;
  }

  private async stepPlain(): Promise<boolean> {
    // The source is awaited here directly (no RawReader.next layer): this runs once per chunk.
    let step: IteratorResult<unknown>;
    try {
      step = await this.raw.request();
    } catch (err) {
      this.failed(this.raw.failure(err));
      return true;
    }
    let chunk: Buffer | undefined;
    try {
      chunk = this.raw.take(step);
    } catch (err) {
      this.state = DONE;
      throw err;
    }
    if (chunk === undefined) {
      this.scanner.end(this.reporting);
      this.state = DONE;
    } else if (chunk.length > 0) {
      this.scanner.push(chunk, this.reporting);
    }
    this.progress();
    return true;
  }

  /** The source failed: deliver the records already complete, and throw at the next step. */
  private failed(err: SourceFailure): void {
    this.scanner.drain(this.reporting);
    this.failure = new InputFailedError(this.sourceName, this.scanner.bytesSeen, {
      cause: err.cause,
    });
    this.state = FAILED;
  }

  // Compressed input goes to zlib in pieces of GZIP_PIECE bytes, and zlib's output comes in
  // chunks of GZIP_OUTPUT bytes. When the stream turns out corrupt, zlib drops the output of the
  // step it failed on, so smaller sizes lose less before the damage; but every piece and every
  // output chunk is a round trip through libuv's thread pool. Measured on a 110 MB object (9 MB
  // compressed, one CPU): 8 KiB pieces and 64 KiB output 828 ms; 32 KiB and 256 KiB 711 ms. At a
  // damaged byte at most about 256 KiB of decompressed text before it is lost (beyond everything
  // after it, which no reader can recover).
  //
  // When the source fails, the compressed input simply ends there: zlib then still delivers
  // everything it could decompress before the failure, and the failure is reported after it
  // (instead of zlib's "unexpected end of file").
  private startGzip(first: Buffer, ended: boolean): void {
    const raw = this.raw;
    const onSourceFailure = (err: SourceFailure): void => {
      this.sourceFailure = err;
    };
    async function* compressed(): AsyncGenerator<Buffer, void, undefined> {
      if (first.length > 0) yield* pieces(first);
      if (ended) return;
      try {
        for (let chunk = await raw.next(); chunk !== undefined; chunk = await raw.next()) {
          yield* pieces(chunk);
        }
      } catch (err) {
        if (!(err instanceof SourceFailure)) throw err;
        onSourceFailure(err);
      }
    }
    const input = Readable.from(compressed(), { objectMode: false });
    const gunzip = createGunzip({ chunkSize: GZIP_OUTPUT });
    input.on('error', (err) => gunzip.destroy(err));
    input.pipe(gunzip);
    this.gzipInput = input;
    this.gunzip = gunzip;
    this.gzipChunks = gunzip[Symbol.asyncIterator]();
    this.state = GZIP;
  }

  private async stepGzip(): Promise<boolean> {
    let gzipError: Error | undefined;
    try {
      const step = await (this.gzipChunks as AsyncIterator<unknown>).next();
      if (step.done !== true) {
        this.scanner.push(step.value as Buffer, this.reporting);
        this.progress();
        return true;
      }
    } catch (err) {
      // A zlib error after a source failure is only the truncation that failure caused.
      if (!isZlibError(err) && this.sourceFailure === undefined) {
        this.closeGzip();
        this.state = DONE;
        throw err;
      }
      gzipError = err as Error;
    }
    this.closeGzip();
    if (this.sourceFailure !== undefined) {
      this.failed(this.sourceFailure);
      return true;
    }
    const at = this.scanner.bytesSeen;
    this.scanner.end(this.reporting);
    if (gzipError !== undefined) {
      this.reporting.bad({
        kind: 'bad',
        offset: at,
        end: at,
        length: 0,
        preview: '',
        bytes: Buffer.alloc(0),
        truncated: false,
        reason: 'corrupt-gzip',
        detail: `GZIP stream corrupt or truncated after ${at} decompressed bytes (${gzipError.message}); the rest of the object could not be read`,
        sourceName: this.sourceName,
      });
    }
    this.state = DONE;
    this.progress();
    return true;
  }

  private closeGzip(): void {
    this.gzipInput?.destroy();
    this.gunzip?.destroy();
    this.gzipInput = undefined;
    this.gunzip = undefined;
  }
}

/** Compressed bytes per zlib write, and decompressed bytes per zlib output chunk (see startGzip). */
const GZIP_PIECE = 32 * 1024;
const GZIP_OUTPUT = 256 * 1024;

function* pieces(chunk: Buffer): Generator<Buffer, void, undefined> {
  for (let i = 0; i < chunk.length; i += GZIP_PIECE) yield chunk.subarray(i, i + GZIP_PIECE);
}

function unwrap(err: unknown): unknown {
  return err instanceof SourceFailure ? err.cause : err;
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/**
 * Reads a Firehose object of CTRs and yields them in batches (one array per decompressed input
 * chunk). Same items as {@link readFirehoseRecords}, with less per-record overhead: use it on hot
 * paths.
 *
 * @example
 * import { createReadStream } from 'node:fs';
 * for await (const batch of readFirehoseBatches(createReadStream('ctr.json'), { sourceName: 'ctr.json' })) {
 *   for (const item of batch) if (item.kind === 'record') console.log(item.record.ContactId);
 * }
 */
export async function* readFirehoseBatches(
  source: ByteSource,
  options: ReadFirehoseOptions = {},
): AsyncGenerator<FirehoseItem[], void, undefined> {
  const sourceName = options.sourceName ?? '(input)';
  let batch: FirehoseItem[] = [];
  const sink: ScanSink = {
    record: (record, raw, offset, length) => {
      batch.push({ kind: 'record', record, raw, offset, length, sourceName });
    },
    bad: (item) => {
      batch.push(item);
    },
  };
  const input = new FirehoseInput(source, options, sink);
  let finished = false;
  try {
    while (await input.step()) {
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
    }
    finished = true;
  } finally {
    if (!finished) await input.close();
  }
  if (batch.length > 0) yield batch;
}

/**
 * Reads a Firehose object of CTRs: concatenated JSON with no delimiter, or newline-separated, or
 * either of them GZIP-compressed (detected by the magic bytes). Yields every record with its byte
 * offset in the decompressed stream, and every malformed stretch as a `{ kind: 'bad' }` item with
 * its offset and first 200 bytes; the records around it still come out. Memory stays bounded by
 * `maxRecordBytes` plus one chunk, whatever the object size.
 *
 * @throws {@link InputFailedError} when the source itself fails (after yielding what came before).
 *
 * @example
 * import { createReadStream } from 'node:fs';
 * for await (const item of readFirehoseRecords(createReadStream('ctr.json'), { sourceName: 'ctr.json' })) {
 *   if (item.kind === 'record') console.log(item.offset, item.record.ContactId);
 *   else console.error(`bad record at byte ${item.offset}: ${item.detail}`);
 * }
 */
export async function* readFirehoseRecords(
  source: ByteSource,
  options: ReadFirehoseOptions = {},
): AsyncGenerator<FirehoseItem, void, undefined> {
  for await (const batch of readFirehoseBatches(source, options)) yield* batch;
}
