import { gzipSync } from 'node:zlib';
import {
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type BackoffPolicy, backoffDelay, sleep } from '@connect-wfm/core';
import type { ObjectEncryptor } from './encryption.js';
import { SimulatorError } from './errors.js';
import type { AgentEventOutput, CtrObjectOutput, ReportOutput } from './types.js';

/** Where one agent event landed. */
export interface PutRecordOutcome {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Wall-clock time (epoch ms) the PutRecords call that stored it returned. */
  readonly putAt: number;
}

/** Something the simulator writes to. Every method is optional. */
export interface SimulatorSink {
  /** Writes agent events in order; returns where each landed (same order) when known. */
  agentEvents?(
    events: readonly AgentEventOutput[],
  ): Promise<readonly PutRecordOutcome[] | undefined>;
  /** Writes one CTR object. */
  ctrObject?(output: CtrObjectOutput): Promise<void>;
  /** Writes one agent performance report. */
  report?(output: ReportOutput): Promise<void>;
}

/** Options of {@link KinesisAgentEventSink}. */
export interface KinesisAgentEventSinkOptions {
  /** A Kinesis client (region, endpoint and credentials are the caller's). */
  readonly client: KinesisClient;
  /** Stream name or ARN. */
  readonly stream: string;
  /** Attempts for records Kinesis refuses (throttling). @default 8 */
  readonly maxAttempts?: number;
}

const MAX_BATCH_RECORDS = 500;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

const RETRY: BackoffPolicy = { baseMs: 200, maxMs: 5000, jitter: 'equal' };

/**
 * Writes agent events with PutRecords (up to 500 records or 4 MiB per call, one call at a time
 * so that one agent's records keep their order), partition key the agent ARN. Records Kinesis
 * refuses are sent again, alone and in order, with a growing pause.
 *
 * @example
 * const sink = new KinesisAgentEventSink({ client: new KinesisClient({}), stream: 'agent-events' });
 */
export class KinesisAgentEventSink implements SimulatorSink {
  private readonly options: KinesisAgentEventSinkOptions;

  constructor(options: KinesisAgentEventSinkOptions) {
    this.options = options;
  }

  async agentEvents(events: readonly AgentEventOutput[]): Promise<readonly PutRecordOutcome[]> {
    const results: PutRecordOutcome[] = [];
    let i = 0;
    while (i < events.length) {
      let bytes = 0;
      let j = i;
      while (j < events.length && j - i < MAX_BATCH_RECORDS) {
        const e = events[j] as AgentEventOutput;
        const size = Buffer.byteLength(e.data) + Buffer.byteLength(e.partitionKey);
        if (j > i && bytes + size > MAX_BATCH_BYTES) break;
        bytes += size;
        j++;
      }
      results.push(...(await this.putBatch(events.slice(i, j))));
      i = j;
    }
    return results;
  }

  private async putBatch(batch: readonly AgentEventOutput[]): Promise<PutRecordOutcome[]> {
    const out: Array<PutRecordOutcome | undefined> = new Array(batch.length);
    let pending = batch.map((_, k) => k);
    const max = this.options.maxAttempts ?? 8;
    const target = this.options.stream.startsWith('arn:')
      ? { StreamARN: this.options.stream }
      : { StreamName: this.options.stream };
    for (let attempt = 1; pending.length > 0; attempt++) {
      let response: PutRecordsCommandOutput;
      try {
        response = await this.options.client.send(
          new PutRecordsCommand({
            ...target,
            Records: pending.map((k) => {
              const e = batch[k] as AgentEventOutput;
              return { Data: Buffer.from(e.data), PartitionKey: e.partitionKey };
            }),
          }),
        );
      } catch (err) {
        if (attempt >= max) {
          throw new SimulatorError(
            'kinesis-put-failed',
            `PutRecords to ${this.options.stream} failed after ${attempt} attempts`,
            { cause: err, retryable: true },
          );
        }
        await sleep(backoffDelay(attempt, RETRY));
        continue;
      }
      const putAt = Date.now();
      const failed: number[] = [];
      (response.Records ?? []).forEach((r, n) => {
        const k = pending[n] as number;
        if (r.ErrorCode !== undefined || r.SequenceNumber === undefined) failed.push(k);
        else out[k] = { shardId: r.ShardId ?? '', sequenceNumber: r.SequenceNumber, putAt };
      });
      if (failed.length === 0) break;
      if (attempt >= max) {
        throw new SimulatorError(
          'kinesis-put-failed',
          `${failed.length} records refused by ${this.options.stream} after ${attempt} attempts`,
          { retryable: true },
        );
      }
      pending = failed;
      await sleep(backoffDelay(attempt, RETRY));
    }
    return out as PutRecordOutcome[];
  }
}

/** Options of {@link S3ObjectSink}. */
export interface S3ObjectSinkOptions {
  /** An S3 client. */
  readonly client: S3Client;
  /** Bucket of the CTR objects. */
  readonly bucket: string;
  /** Bucket of the reports. @default bucket */
  readonly reportBucket?: string;
  /** Client-side encryption of CTR objects (e.g. {@link kmsEnvelopeEncryptor}). @default none */
  readonly encryptor?: ObjectEncryptor;
  /**
   * Send an S3 event notification for each object to this SQS queue, for setups where S3 itself
   * does not notify (real S3 with a notification configuration does: leave this out then).
   */
  readonly notify?: {
    readonly client: SQSClient;
    readonly queueUrl: string;
    readonly region?: string;
  };
}

/**
 * Writes CTR objects (gzipped when the key ends in `.gz`, optionally client-side encrypted) and
 * report CSVs with PutObject, and optionally an S3 event notification to SQS for each.
 *
 * @example
 * const sink = new S3ObjectSink({ client: new S3Client({}), bucket: 'connect-ctr' });
 */
export class S3ObjectSink implements SimulatorSink {
  private readonly options: S3ObjectSinkOptions;

  constructor(options: S3ObjectSinkOptions) {
    this.options = options;
  }

  async ctrObject(output: CtrObjectOutput): Promise<void> {
    let body = output.gzip ? gzipSync(output.body) : output.body;
    let metadata: Record<string, string> | undefined;
    if (this.options.encryptor !== undefined) {
      const sealed = await this.options.encryptor.encrypt(body);
      body = sealed.body;
      metadata = sealed.metadata;
    }
    await this.put(this.options.bucket, output.key, body, 'application/octet-stream', metadata);
  }

  async report(output: ReportOutput): Promise<void> {
    await this.put(
      this.options.reportBucket ?? this.options.bucket,
      output.key,
      Buffer.from(output.body),
      'text/csv',
      undefined,
    );
  }

  private async put(
    bucket: string,
    key: string,
    body: Buffer,
    contentType: string,
    metadata: Record<string, string> | undefined,
  ): Promise<void> {
    try {
      await this.options.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...(metadata === undefined ? {} : { Metadata: metadata }),
        }),
      );
    } catch (err) {
      throw new SimulatorError('s3-put-failed', `PutObject s3://${bucket}/${key} failed`, {
        cause: err,
        retryable: true,
      });
    }
    const notify = this.options.notify;
    if (notify === undefined) return;
    const event = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: notify.region ?? 'us-east-1',
          eventTime: new Date().toISOString(),
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
            object: {
              key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'),
              size: body.length,
              sequencer: Date.now().toString(16).toUpperCase(),
            },
          },
        },
      ],
    };
    try {
      await notify.client.send(
        new SendMessageCommand({ QueueUrl: notify.queueUrl, MessageBody: JSON.stringify(event) }),
      );
    } catch (err) {
      throw new SimulatorError('sqs-send-failed', `SendMessage for s3://${bucket}/${key} failed`, {
        cause: err,
        retryable: true,
      });
    }
  }
}

/**
 * Keeps everything in memory (tests, previews).
 *
 * @example
 * const memory = new MemorySink();
 * // after a run: memory.agentEventOutputs.length, memory.objects.length
 */
export class MemorySink implements SimulatorSink {
  readonly agentEventOutputs: AgentEventOutput[] = [];
  readonly objects: CtrObjectOutput[] = [];
  readonly reports: ReportOutput[] = [];

  async agentEvents(events: readonly AgentEventOutput[]): Promise<undefined> {
    this.agentEventOutputs.push(...events);
    return undefined;
  }

  async ctrObject(output: CtrObjectOutput): Promise<void> {
    this.objects.push(output);
  }

  async report(output: ReportOutput): Promise<void> {
    this.reports.push(output);
  }
}
