import {
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { configProblemsFrom, type Logger, silentLogger } from '@connect-wfm/core';
import {
  csvFileNameFor,
  ctrCsvStream,
  type FirehoseBadItem,
  type FirehoseItem,
  firehoseObjectToCsv,
  IntervalStatsAccumulator,
  mapAgentPerformanceReport,
  type ReadProgress,
  readFirehoseBatches,
} from '@connect-wfm/ctr-csv-mapper';
import { CseError, openS3Object } from '@connect-wfm/s3-cse-reader';
import { classifyByKey, sniffObjectKind } from './classify.js';
import {
  HistoricalFeedError,
  type HistoricalFeedErrorCode,
  HistoricalFeedOptionsError,
} from './errors.js';
import { parseQueueMessage } from './messages.js';
import { crossOptionProblems, feedOptionsSchema } from './options.js';
import { readAhead } from './read-ahead.js';
import type {
  DeliveredFile,
  FileUploader,
  HistoricalFeedOptions,
  MessageOutcome,
  ObjectKind,
  ObjectOutcome,
  ObjectRef,
  StatsOutputs,
} from './types.js';

/** Bytes read to sniff an object's kind. */
const SNIFF_BYTES = 512;

interface Resolved {
  readonly s3: S3Client;
  readonly kms: HistoricalFeedOptions['kms'];
  readonly uploader: FileUploader;
  readonly ctrPrefix: string;
  readonly reportPrefix: string;
  readonly quarantinePrefix: string;
  readonly sniffContent: boolean;
  readonly reportMode: 'passthrough' | 'mapped';
  readonly statsOutputs: StatsOutputs;
  readonly statsIntervalMinutes: 15 | 30 | 60;
  readonly deliveredTag: string;
  readonly kmsKeyId: string | undefined;
  readonly maxQuarantineBytes: number;
  readonly readAheadBytes: number;
  readonly logger: Logger;
}

/**
 * Delivers S3 objects announced on a queue to the WFM's SFTP server: one file per object
 * (docs/historical-formats.md), streamed from S3 (decrypted when client-side encrypted) through
 * the CTR mapper to the uploader, published atomically, then marked with the delivered tag. A
 * redelivered message for a tagged object uploads nothing. Bad records go to the quarantine
 * prefix while the good ones are delivered.
 *
 * @example
 * const feed = new HistoricalFeed({ s3, kms, uploader: new SftpUploader({ ... }) });
 * const outcome = await feed.processMessage(record.body, record.messageId);
 * if (!outcome.acknowledge) batchItemFailures.push({ itemIdentifier: record.messageId });
 */
export class HistoricalFeed {
  readonly #o: Resolved;

  constructor(options: HistoricalFeedOptions) {
    const { s3, kms, uploader, logger, ...rest } = options;
    const parsed = feedOptionsSchema.safeParse(rest);
    const problems = [
      ...(parsed.success ? [] : configProblemsFrom(parsed.error)),
      ...crossOptionProblems(rest),
    ];
    if (!parsed.success || problems.length > 0) throw new HistoricalFeedOptionsError(problems);
    this.#o = {
      s3,
      kms,
      uploader,
      logger: logger ?? silentLogger,
      ...parsed.data,
      kmsKeyId: parsed.data.kmsKeyId,
    };
  }

  /**
   * Handles one SQS message: parses it, delivers every object it names, and says whether the
   * message may be acknowledged. Never throws; failures are in the outcome.
   *
   * @example
   * const { acknowledge, error } = await feed.processMessage(body, messageId);
   */
  async processMessage(body: string, messageId: string): Promise<MessageOutcome> {
    const log = this.#o.logger;
    let parsed: ReturnType<typeof parseQueueMessage>;
    try {
      parsed = parseQueueMessage(body, messageId);
    } catch (err) {
      const error = err as HistoricalFeedError;
      log.error(error.message, { messageId, code: error.code, bodyPreview: body.slice(0, 200) });
      return { messageId, acknowledge: false, retryable: false, objects: [], error };
    }
    if (parsed.kind === 'test') {
      log.info('s3:TestEvent acknowledged', { messageId });
      return { messageId, acknowledge: true, retryable: false, objects: [] };
    }
    for (const ignored of parsed.ignored) {
      log.info('event acknowledged without delivery (not an object creation)', {
        messageId,
        event: ignored,
      });
    }
    const objects: ObjectOutcome[] = [];
    let failure: HistoricalFeedError | undefined;
    for (const ref of parsed.objects) {
      const outcome = await this.processObject(ref);
      objects.push(outcome);
      if (outcome.status === 'failed' && failure === undefined) failure = outcome.error;
    }
    return failure === undefined
      ? { messageId, acknowledge: true, retryable: false, objects }
      : { messageId, acknowledge: false, retryable: failure.retryable, objects, error: failure };
  }

  /**
   * Delivers one object (or recognises it as delivered or not ours). Never throws.
   *
   * @example
   * const outcome = await feed.processObject({ bucket: 'b', key: 'ctr/x', eventName: 'ObjectCreated:Put' });
   */
  async processObject(ref: ObjectRef): Promise<ObjectOutcome> {
    const o = this.#o;
    const object = `s3://${ref.bucket}/${ref.key}`;
    const started = Date.now();
    const byKey = classifyByKey(ref.key, o);
    if (byKey === 'skip') {
      o.logger.debug('object skipped: quarantine output or instruction file', { object });
      return { status: 'skipped', object, reason: 'quarantine output or instruction file' };
    }
    // The SSH handshake runs while the object's tags and body are fetched (never rejects).
    void o.uploader.connect?.();
    try {
      const tags = await this.#tags(ref, object);
      if (tags.some((t) => t.Key === o.deliveredTag)) {
        o.logger.info('object already delivered: message acknowledged without a second upload', {
          object,
        });
        return { status: 'already-delivered', object };
      }
      const opened = await openS3Object({
        s3: o.s3,
        kms: o.kms,
        bucket: ref.bucket,
        key: ref.key,
        kmsKeyId: o.kmsKeyId,
        logger: o.logger,
      }).catch((err: unknown) => {
        throw fromCause(err, object, 'READ_FAILED', 'reading the object failed');
      });
      const source = readAhead(opened.body, o.readAheadBytes);
      let body: AsyncIterable<Buffer> = source;
      let kind: ObjectKind | undefined = byKey;
      if (kind === undefined) {
        if (!o.sniffContent) {
          await (source as Partial<AsyncIterator<Buffer>>).return?.();
          (opened.body as unknown as { destroy?: () => void }).destroy?.();
          throw unknownObject(object, o, 'no prefix matched and content sniffing is off');
        }
        const peeked = await peek(source, SNIFF_BYTES).catch((err: unknown) => {
          throw fromCause(err, object, 'READ_FAILED', 'reading the object failed');
        });
        kind = sniffObjectKind(peeked.head);
        if (kind === undefined) {
          await peeked.close();
          throw unknownObject(object, o, 'its first bytes are neither JSON nor a CSV header');
        }
        body = peeked.stream;
      }
      const bad: FirehoseBadItem[] = [];
      let progress: ReadProgress | undefined;
      const files: DeliveredFile[] = [];
      let bytesIn = 0;
      if (kind === 'ctr') {
        const name = csvFileNameFor(ref.key);
        const readOptions = {
          sourceName: object,
          onBadRecord: (item: FirehoseBadItem) => bad.push(item),
          onProgress: (p: ReadProgress) => {
            progress = p;
          },
        };
        let stats: IntervalStatsAccumulator | undefined;
        let csv: AsyncIterable<Uint8Array>;
        if (o.statsOutputs === 'none') {
          csv = firehoseObjectToCsv(body, readOptions);
        } else {
          const acc = new IntervalStatsAccumulator({ intervalMinutes: o.statsIntervalMinutes });
          stats = acc;
          const { onBadRecord: _ignored, ...withoutBad } = readOptions;
          async function* counted(): AsyncGenerator<FirehoseItem[]> {
            for await (const batch of readFirehoseBatches(body, withoutBad)) {
              acc.addItems(batch);
              yield batch;
            }
          }
          csv = ctrCsvStream(counted(), { onBadRecord: (item) => bad.push(item) });
        }
        files.push(await this.#put(name, readAhead(csv, o.readAheadBytes), object));
        if (stats !== undefined) {
          const base = name.replace(/\.csv$/, '');
          if (o.statsOutputs === 'queue' || o.statsOutputs === 'both') {
            files.push(await this.#put(`${base}.queue-stats.csv`, stats.toCsv('queue'), object));
          }
          if (o.statsOutputs === 'agent-queue' || o.statsOutputs === 'both') {
            files.push(
              await this.#put(`${base}.agent-queue-stats.csv`, stats.toCsv('agent-queue'), object),
            );
          }
        }
        bytesIn = progress?.bytes ?? 0;
      } else {
        const base = ref.key.slice(ref.key.lastIndexOf('/') + 1).replaceAll(':', '_');
        const name = base.toLowerCase().endsWith('.csv') ? base : `${base}.csv`;
        if (o.reportMode === 'passthrough') {
          let n = 0;
          async function* counting(): AsyncGenerator<Buffer> {
            for await (const chunk of body) {
              n += chunk.length;
              yield chunk;
            }
          }
          files.push(await this.#put(name, counting(), object));
          bytesIn = n;
        } else {
          const mapped = await mapAgentPerformanceReport(body, { sourceName: object }).catch(
            (err: unknown) => {
              throw fromCause(
                err,
                object,
                'MAPPING_FAILED',
                'mapping the agent performance report failed',
              );
            },
          );
          files.push(await this.#put(name, mapped.csv, object));
        }
      }
      let quarantineKey: string | undefined;
      if (bad.length > 0) quarantineKey = await this.#quarantine(ref, object, bad);
      await this.#markDelivered(ref, object, tags);
      const outcome: ObjectOutcome = {
        status: 'delivered',
        object,
        kind,
        encryption: opened.encryption,
        files,
        records: progress?.records ?? 0,
        badRecords: bad.length,
        bytesIn,
        ...(quarantineKey !== undefined ? { quarantineKey } : {}),
        durationMs: Date.now() - started,
      };
      o.logger.info('object delivered', {
        object,
        kind,
        encryption: opened.encryption,
        files: files.map((f) => f.name),
        records: outcome.records,
        badRecords: outcome.badRecords,
        durationMs: outcome.durationMs,
      });
      return outcome;
    } catch (err) {
      const error =
        err instanceof HistoricalFeedError
          ? err
          : fromCause(err, object, 'DELIVERY_FAILED', 'delivery failed');
      o.logger.error(error.message, {
        object,
        code: error.code,
        retryable: error.retryable,
        ...(error.retryable
          ? {}
          : {
              action:
                'not retryable: the message reaches the dead-letter queue after maxReceiveCount receives',
            }),
      });
      return { status: 'failed', object, error };
    }
  }

  async #put(
    name: string,
    body: string | AsyncIterable<Uint8Array>,
    object: string,
  ): Promise<DeliveredFile> {
    try {
      const result = await this.#o.uploader.put(name, body);
      return { name, bytes: result.bytes };
    } catch (err) {
      const cse = findCause(err, (e): e is CseError => e instanceof CseError);
      if (cse !== undefined) {
        throw new HistoricalFeedError(
          'READ_FAILED',
          `${cse.message} (nothing was published as ${name})`,
          {
            cause: cse,
            retryable: cse.retryable,
            objectName: object,
          },
        );
      }
      throw fromCause(
        err,
        object,
        'DELIVERY_FAILED',
        `uploading ${name} failed; nothing was published under that name`,
      );
    }
  }

  async #tags(ref: ObjectRef, object: string): Promise<Tag[]> {
    try {
      const out = await this.#o.s3.send(
        new GetObjectTaggingCommand({ Bucket: ref.bucket, Key: ref.key }),
      );
      return out.TagSet ?? [];
    } catch (err) {
      throw fromCause(err, object, 'TAGGING_FAILED', 'reading the object tags failed');
    }
  }

  async #markDelivered(ref: ObjectRef, object: string, existing: readonly Tag[]): Promise<void> {
    const o = this.#o;
    const TagSet = [
      ...existing.filter((t) => t.Key !== o.deliveredTag),
      { Key: o.deliveredTag, Value: new Date().toISOString() },
    ];
    try {
      await o.s3.send(
        new PutObjectTaggingCommand({ Bucket: ref.bucket, Key: ref.key, Tagging: { TagSet } }),
      );
    } catch (err) {
      throw fromCause(
        err,
        object,
        'TAGGING_FAILED',
        'the file was published but tagging the object as delivered failed; the retry uploads the same file name again',
      );
    }
  }

  async #quarantine(
    ref: ObjectRef,
    object: string,
    bad: readonly FirehoseBadItem[],
  ): Promise<string> {
    const o = this.#o;
    const key = `${o.quarantinePrefix}${ref.key}.bad.jsonl`;
    let budget = o.maxQuarantineBytes;
    const lines = bad.map((item) => {
      const bytes = item.bytes;
      const keep = bytes.length > 0 && bytes.length <= budget;
      if (keep) budget -= bytes.length;
      return JSON.stringify({
        object,
        offset: item.offset,
        end: item.end,
        length: item.length,
        reason: item.reason,
        detail: item.detail,
        preview: item.preview,
        ...(keep ? { bytesBase64: bytes.toString('base64') } : {}),
        ...(item.truncated ? { bytesTruncated: true } : {}),
        ...(bytes.length > 0 && !keep ? { bytesOmitted: 'quarantine byte budget exhausted' } : {}),
      });
    });
    try {
      await o.s3.send(
        new PutObjectCommand({
          Bucket: ref.bucket,
          Key: key,
          Body: `${lines.join('\n')}\n`,
          ContentType: 'application/x-ndjson',
        }),
      );
    } catch (err) {
      throw fromCause(err, object, 'QUARANTINE_FAILED', `writing the bad records to ${key} failed`);
    }
    o.logger.warn('bad records quarantined; the good records were delivered', {
      object,
      quarantineKey: key,
      badRecords: bad.length,
      offsets: bad.slice(0, 20).map((b) => b.offset),
    });
    return key;
  }
}

function unknownObject(object: string, o: Resolved, why: string): HistoricalFeedError {
  return new HistoricalFeedError(
    'UNKNOWN_OBJECT',
    `${object} is neither a CTR object (prefix "${o.ctrPrefix}") nor a report (prefix "${o.reportPrefix}"): ${why}. It is not retried: the message reaches the dead-letter queue; move the object or fix CTR_PREFIX/REPORT_PREFIX`,
    { objectName: object, retryable: false },
  );
}

function findCause<T>(err: unknown, test: (e: unknown) => e is T): T | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (test(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Wraps any failure with the object's name; keeps `retryable` of a connect-wfm error. */
function fromCause(
  err: unknown,
  object: string,
  code: HistoricalFeedErrorCode,
  what: string,
): HistoricalFeedError {
  if (err instanceof HistoricalFeedError) return err;
  const cse = findCause(err, (e): e is CseError => e instanceof CseError);
  if (cse !== undefined) {
    return new HistoricalFeedError('READ_FAILED', cse.message, {
      cause: cse,
      retryable: cse.retryable,
      objectName: object,
    });
  }
  const e = err as { name?: unknown; message?: unknown; retryable?: unknown; code?: unknown };
  const detail =
    typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const retryable =
    typeof e?.retryable === 'boolean'
      ? e.retryable
      : !(status !== undefined && status >= 400 && status < 500);
  return new HistoricalFeedError(code, `${object}: ${what} (${detail}: ${message})`, {
    cause: err,
    retryable,
    objectName: object,
  });
}

/** Reads about `want` bytes, then returns them and a stream of the whole content. */
async function peek(
  body: AsyncIterable<Buffer>,
  want: number,
): Promise<{ head: Buffer; stream: AsyncIterable<Buffer>; close(): Promise<void> }> {
  const it = body[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < want) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    parts.push(r.value);
    size += r.value.length;
  }
  const head = Buffer.concat(parts);
  async function* stream(): AsyncGenerator<Buffer> {
    let finished = done;
    try {
      if (head.length > 0) yield head;
      while (!finished) {
        const r = await it.next();
        if (r.done) {
          finished = true;
          return;
        }
        yield r.value;
      }
    } finally {
      if (!finished) await it.return?.();
    }
  }
  return {
    head,
    stream: stream(),
    close: async () => {
      if (!done) await it.return?.();
    },
  };
}
