/// <reference path="./vendor-s3rver.d.ts" />
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** Options for {@link startS3}. */
export interface S3PeerOptions {
  /**
   * Buckets to create before `startS3` resolves (3 to 63 characters: lower-case letters, digits,
   * `.` and `-`).
   * @default []
   */
  buckets?: readonly string[];
  /**
   * Region the clients are configured with and the event records carry.
   * @default 'us-east-1'
   */
  region?: string;
  /**
   * Called synchronously, before the response is sent, with an S3 event notification for every
   * object created or deleted. Wire it to an SQS peer to mimic an S3 → SQS notification:
   * `onEvent: (e) => sqs.enqueue('ctr-events', JSON.stringify(e))`.
   * @default undefined (no notifications)
   */
  onEvent?: (event: S3EventNotification) => void;
}

/** One record of an S3 event notification (the subset s3rver produces). */
export interface S3EventRecord {
  /** `'2.1'`. */
  eventVersion: string;
  /** `'aws:s3'`. */
  eventSource: string;
  /** The peer's region. */
  awsRegion: string;
  /** ISO-8601 time of the event. */
  eventTime: string;
  /** `ObjectCreated:Put`, `ObjectCreated:Post`, `ObjectCreated:Copy`, `ObjectRemoved:Delete`, ... */
  eventName: string;
  s3: {
    /** `'1.0'`. */
    s3SchemaVersion: string;
    bucket: { name: string; arn: string };
    /**
     * `key` is URL-encoded as S3 does it (`red flower.jpg` → `red+flower.jpg`), so consumers must
     * decode it with `decodeURIComponent(key.replace(/\+/g, ' '))`.
     */
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
}

/** An S3 event notification as S3 sends it to SQS (the message body, JSON-encoded). */
export interface S3EventNotification {
  /** One record per event (s3rver emits one at a time). */
  Records: S3EventRecord[];
}

/** A running s3rver, see {@link startS3}. */
export interface S3Peer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Region for clients. */
  readonly region: string;
  /** s3rver's built-in account (`S3RVER`/`S3RVER`); other access keys are rejected. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** Directory holding the objects; removed by `stop()`. */
  readonly directory: string;
  /**
   * A new `S3Client` for this peer (path-style, SDK-default checksum settings). `overrides` are
   * merged over the defaults. `stop()` destroys every client made here.
   */
  client(overrides?: Partial<S3ClientConfig>): S3Client;
  /** Creates a bucket through the S3 API. Rejects on invalid or duplicate names. */
  createBucket(name: string): Promise<void>;
  /** Destroys the clients, closes the server, drops connections, deletes the directory. Idempotent. */
  stop(): Promise<void>;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Decodes an `aws-chunked` request body (`<hex size>[;ext]\r\n<data>\r\n ... 0\r\n<trailers>\r\n`)
 * as the AWS SDK sends it for streamed uploads with flexible checksums. Trailing checksums are
 * dropped, not verified.
 */
class AwsChunkedDecoder extends Transform {
  private buffered: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    try {
      this.drain();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    const complete =
      this.state === 'done' || (this.state === 'trailer' && this.buffered.length === 0);
    callback(complete ? null : new Error(`aws-chunked body ended early (in state ${this.state})`));
  }

  private line(): string | undefined {
    const end = this.buffered.indexOf('\r\n');
    if (end < 0) {
      if (this.buffered.length > 8192) throw new Error('aws-chunked header line too long');
      return undefined;
    }
    const text = this.buffered.subarray(0, end).toString('latin1');
    this.buffered = this.buffered.subarray(end + 2);
    return text;
  }

  private drain(): void {
    for (;;) {
      if (this.state === 'size') {
        const text = this.line();
        if (text === undefined) return;
        const size = Number.parseInt(text.split(';', 1)[0] ?? '', 16);
        if (!Number.isFinite(size) || size < 0) throw new Error(`bad aws-chunked size "${text}"`);
        this.remaining = size;
        this.state = size === 0 ? 'trailer' : 'data';
      } else if (this.state === 'data') {
        if (this.buffered.length === 0) return;
        const take = Math.min(this.remaining, this.buffered.length);
        this.push(this.buffered.subarray(0, take));
        this.buffered = this.buffered.subarray(take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'data-end';
      } else if (this.state === 'data-end') {
        const text = this.line();
        if (text === undefined) return;
        if (text !== '') throw new Error('aws-chunked chunk not followed by CRLF');
        this.state = 'size';
      } else if (this.state === 'trailer') {
        const text = this.line();
        if (text === undefined) return;
        if (text === '') this.state = 'done';
      } else {
        this.buffered = Buffer.alloc(0);
        return;
      }
    }
  }
}

/** Koa middleware placed before s3rver's own: turns aws-chunked uploads into plain bodies. */
const decodeAwsChunked: S3rver.Middleware = async (ctx, next) => {
  const encoding = ctx.headers['content-encoding'];
  const codings = typeof encoding === 'string' ? encoding.split(',').map((s) => s.trim()) : [];
  if (codings.includes('aws-chunked')) {
    const rest = codings.filter((c) => c !== 'aws-chunked' && c !== '');
    if (rest.length > 0) ctx.headers['content-encoding'] = rest.join(', ');
    else delete ctx.headers['content-encoding'];
    const decoded = ctx.headers['x-amz-decoded-content-length'];
    if (typeof decoded === 'string') ctx.headers['content-length'] = decoded;
    const source = ctx.req as IncomingMessage;
    const decoder = new AwsChunkedDecoder();
    decoder.on('error', () => source.destroy());
    ctx.req = source.pipe(decoder);
  }
  await next();
};

function toEventNotification(event: S3rver.Event, region: string): S3EventNotification {
  return {
    Records: event.Records.map((r) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: region,
      eventTime: r.eventTime,
      eventName: r.eventName,
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: r.s3.bucket.name, arn: `arn:aws:s3:::${r.s3.bucket.name}` },
        object: {
          ...r.s3.object,
          key: r.s3.object.key
            .split('/')
            .map((part) => encodeURIComponent(part).replace(/%20/g, '+'))
            .join('/'),
        },
      },
    })),
  };
}

/**
 * Starts s3rver on 127.0.0.1 (a free port) with objects in a fresh temporary directory.
 *
 * Works with the current `@aws-sdk/client-s3` at its default settings: streamed uploads, which the
 * SDK sends `aws-chunked` with a trailing `x-amz-checksum-*`, are decoded before s3rver stores them
 * (s3rver alone would store the chunk framing as the object's bytes). Checksums are not verified
 * and not returned, so the SDK skips response validation.
 *
 * @example
 * const s3 = await startS3({ buckets: ['ctr-bucket'] });
 * const client = s3.client();
 * await client.send(new PutObjectCommand({ Bucket: 'ctr-bucket', Key: 'a.json', Body: '{}' }));
 * await s3.stop();
 */
export async function startS3(options: S3PeerOptions = {}): Promise<S3Peer> {
  const region = options.region ?? 'us-east-1';
  for (const name of options.buckets ?? []) assertBucketName(name);
  const directory = await mkdtemp(join(tmpdir(), 'testkit-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  server.middleware.unshift(decodeAwsChunked);
  const onEvent = options.onEvent;
  if (onEvent) server.on('event', (event) => onEvent(toEventNotification(event, region)));
  let address: { port: number };
  try {
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw new Error(`could not start s3rver in ${directory}`, { cause: err });
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const clients = new Set<S3Client>();
  const client = (overrides: Partial<S3ClientConfig> = {}): S3Client => {
    const c = new S3Client({ endpoint, region, credentials, forcePathStyle: true, ...overrides });
    clients.add(c);
    return c;
  };
  let stopping: Promise<void> | undefined;

  return {
    endpoint,
    region,
    credentials,
    directory,
    client,
    async createBucket(name) {
      assertBucketName(name);
      const c = client();
      try {
        await c.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        c.destroy();
        clients.delete(c);
      }
    },
    stop() {
      stopping ??= (async () => {
        for (const c of clients) c.destroy();
        const closed = server.close();
        server.httpServer?.closeAllConnections();
        await closed;
        await rm(directory, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

function assertBucketName(name: string): void {
  if (!BUCKET_NAME.test(name) || name.includes('..')) {
    throw new Error(
      `invalid S3 bucket name "${name}": use 3-63 lower-case letters, digits, "." or "-", starting and ending with a letter or digit`,
    );
  }
}
