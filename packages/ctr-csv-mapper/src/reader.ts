import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputFailedError, InvalidOptionsError } from './errors.js';
import { checkOptions, readOptionsSchema } from './options.js';
import { FirehoseScanner, type ScanSink } from './scanner.js';
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
    'expected a Readable, an AsyncIterable or an Iterable of Buffers',
  ]);
}

/** The source as raw Buffers, counting bytes; source errors are wrapped in SourceFailure. */
async function* rawChunks(
  source: ByteSource,
  onBytes: (n: number) => void,
): AsyncGenerator<Buffer, void, undefined> {
  const it = iterate(source);
  let done = false;
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await it.next();
      } catch (err) {
        throw new SourceFailure('source failed', { cause: err });
      }
      if (step.done === true) {
        done = true;
        return;
      }
      const buf = toBuffer(step.value);
      if (buf.length === 0) continue;
      onBytes(buf.length);
      yield buf;
    }
  } finally {
    if (!done && typeof it.return === 'function') {
      try {
        await it.return();
      } catch {
        // closing an abandoned source must not hide the original outcome
      }
    }
  }
}

/**
 * Internal engine shared by the reader and the fused CSV path: reads `source`, decompresses it
 * when it is GZIP, feeds the scanner, and yields (nothing) after each chunk so the caller can
 * flush what its sink collected. Bad items also go to `onBadRecord` and the logger.
 * `byteStrings` is the scanner option of that name (for sinks that write bytes back out).
 */
export async function* scanFirehose(
  source: ByteSource,
  options: ReadFirehoseOptions,
  sink: ScanSink,
  byteStrings = false,
): AsyncGenerator<void, void, undefined> {
  checkOptions('reader options', readOptionsSchema, options);
  const sourceName = options.sourceName ?? '(input)';
  const scanner = new FirehoseScanner({
    sourceName,
    maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
    byteStrings,
  });
  const onBad = options.onBadRecord;
  const logger = options.logger;
  const reporting: ScanSink =
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
  let rawBytes = 0;
  const onProgress = options.onProgress;
  const raw = rawChunks(source, (n) => {
    rawBytes += n;
  });
  const progress = (): void =>
    onProgress?.({
      rawBytes,
      bytes: scanner.bytesSeen,
      records: scanner.records,
      badRecords: scanner.badRecords,
    });

  // Detect GZIP from the first two bytes (which may arrive in separate chunks).
  const head: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  try {
    while (headLen < 2) {
      const step = await raw.next();
      if (step.done === true) {
        ended = true;
        break;
      }
      head.push(step.value);
      headLen += step.value.length;
    }
  } catch (err) {
    throw new InputFailedError(sourceName, 0, { cause: unwrap(err) });
  }
  const first = head.length === 1 ? (head[0] as Buffer) : Buffer.concat(head);
  const mode = options.compression ?? 'auto';
  const gzip =
    mode === 'gzip' ||
    (mode === 'auto' && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b);
  logger?.debug('reading Firehose object', { sourceName, gzip });

  if (!gzip) {
    if (first.length > 0) {
      scanner.push(first, reporting);
      progress();
      yield;
    }
    if (!ended) {
      try {
        for await (const chunk of raw) {
          scanner.push(chunk, reporting);
          progress();
          yield;
        }
      } catch (err) {
        if (err instanceof SourceFailure) {
          scanner.drain(reporting);
          yield;
          throw new InputFailedError(sourceName, scanner.bytesSeen, { cause: err.cause });
        }
        throw err;
      }
    }
    scanner.end(reporting);
    progress();
    return;
  }

  // Compressed input goes to zlib in small pieces: when the stream turns out corrupt, zlib
  // drops the output of the piece it failed on, so small pieces lose the least.
  async function* compressed(): AsyncGenerator<Buffer, void, undefined> {
    if (first.length > 0) yield* pieces(first);
    if (!ended) for await (const chunk of raw) yield* pieces(chunk);
  }
  const input = Readable.from(compressed(), { objectMode: false });
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  let gzipError: Error | undefined;
  let sourceError: SourceFailure | undefined;
  try {
    for await (const chunk of gunzip) {
      scanner.push(chunk as Buffer, reporting);
      progress();
      yield;
    }
  } catch (err) {
    if (!(err instanceof SourceFailure) && !isZlibError(err)) throw err;
    if (err instanceof SourceFailure) sourceError = err;
    else gzipError = err as Error;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  if (sourceError !== undefined) {
    scanner.drain(reporting);
    yield;
    throw new InputFailedError(sourceName, scanner.bytesSeen, { cause: sourceError.cause });
  }
  const at = scanner.bytesSeen;
  scanner.end(reporting);
  if (gzipError !== undefined) {
    reporting.bad({
      kind: 'bad',
      offset: at,
      length: 0,
      preview: '',
      reason: 'corrupt-gzip',
      detail: `GZIP stream corrupt or truncated after ${at} decompressed bytes (${gzipError.message}); the rest of the object could not be read`,
      sourceName,
    });
  }
  progress();
}

const GZIP_PIECE = 8 * 1024;

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
  for await (const _ of scanFirehose(source, options, sink)) {
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
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
